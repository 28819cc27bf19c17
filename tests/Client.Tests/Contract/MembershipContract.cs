using Coordination.Client.Tests.Fixtures;

namespace Coordination.Client.Tests.Contract;

public abstract class MembershipContract(ContractTarget target) : ContractBase(target, ContractGroup.Membership)
{
    [Fact]
    public async Task A_learner_is_added_updated_refused_promotion_while_not_in_sync_and_removed()
    {
        var peer = $"http://127.0.0.1:{Compatibility.Tests.Fixtures.FreePorts.Next()}";
        var moved = $"http://127.0.0.1:{Compatibility.Tests.Fixtures.FreePorts.Next()}";

        var (added, members) = await Client.Cluster.AddAsync([peer], isLearner: true, Ct);
        try
        {
            Assert.True(added.IsLearner);
            Assert.Equal([peer], added.PeerUrls);
            Assert.Contains(members, m => m.Id == added.Id);

            var promote = await Assert.ThrowsAsync<EtcdMembershipException>(() => Client.Cluster.PromoteAsync(added.Id, Ct));
            Assert.Equal("etcdserver: can only promote a learner member which is in sync with leader", promote.Message);

            var updated = await Client.Cluster.UpdateAsync(added.Id, [moved], Ct);
            Assert.Equal([moved], updated.Single(m => m.Id == added.Id).PeerUrls);
        }
        finally
        {
            await Client.Cluster.RemoveAsync(added.Id, Ct);
        }

        Assert.DoesNotContain(await Client.Cluster.ListAsync(Ct), m => m.Id == added.Id);
        var missing = await Assert.ThrowsAsync<EtcdMembershipException>(() => Client.Cluster.RemoveAsync(added.Id, Ct));
        Assert.Equal("etcdserver: member not found", missing.Message);
    }
}

[Collection(EtcdCollection.Name)]
public sealed class MembershipOnEtcd(EtcdTarget target) : MembershipContract(target);

[Collection(CoordinationCollection.Name)]
public sealed class MembershipOnCoordination(CoordinationTarget target) : MembershipContract(target);
