using Coordination.Client.Tests.Fixtures;

namespace Coordination.Client.Tests.Contract;

public abstract class ClusterReadContract(ContractTarget target) : ContractBase(target, ContractGroup.ClusterRead)
{
    [Fact]
    public async Task The_member_list_names_the_member_that_answers()
    {
        var members = await Client.Cluster.ListAsync(Ct);
        var status = await Client.Maintenance.StatusAsync(cancellationToken: Ct);

        Assert.NotEmpty(members);
        var self = Assert.Single(members, m => m.Id == status.Header.MemberId);
        Assert.NotEmpty(self.ClientUrls);
        Assert.All(members, m => Assert.NotEmpty(m.PeerUrls));
    }

    [Fact]
    public async Task Endpoint_sync_replaces_the_list_with_the_members_client_urls()
    {
        await Client.SyncEndpointsAsync(Ct);

        var members = await Client.Cluster.ListAsync(Ct);
        Assert.Equal(
            members.Where(m => !m.IsLearner).SelectMany(m => m.ClientUrls).Select(u => u.TrimEnd('/')).Order(),
            Client.Endpoints.Order());
        var put = await Client.Kv.PutAsync(Key("after-sync"), "v", cancellationToken: Ct);
        Assert.Equal(put.Header.Revision, (await Client.Kv.GetAsync(Key("after-sync"), cancellationToken: Ct))?.ModRevision);
    }
}

public abstract class MaintenanceContract(ContractTarget target) : ContractBase(target, ContractGroup.Maintenance)
{
    [Fact]
    public async Task Status_reports_a_leader_a_version_and_the_revision()
    {
        var put = await Client.Kv.PutAsync(Key("s"), "v", cancellationToken: Ct);
        var status = await Client.Maintenance.StatusAsync(Target.Endpoints[0], Ct);

        Assert.NotEqual(0UL, status.Leader);
        Assert.False(string.IsNullOrEmpty(status.Version));
        Assert.True(status.DbSize > 0);
        Assert.True(status.Header.Revision >= put.Header.Revision);
    }

    [Fact]
    public async Task HashKv_is_stable_without_writes_and_changes_with_one()
    {
        await Client.Kv.PutAsync(Key("h"), "1", cancellationToken: Ct);
        var rev = (await Client.Kv.PutAsync(Key("h"), "2", cancellationToken: Ct)).Header.Revision;

        var a = await Client.Maintenance.HashKvAsync(rev, cancellationToken: Ct);
        var b = await Client.Maintenance.HashKvAsync(rev, cancellationToken: Ct);
        var next = (await Client.Kv.PutAsync(Key("h"), "3", cancellationToken: Ct)).Header.Revision;
        var c = await Client.Maintenance.HashKvAsync(next, cancellationToken: Ct);

        Assert.Equal(a.Hash, b.Hash);
        Assert.NotEqual(a.Hash, c.Hash);
    }

    [Fact]
    public async Task Alarms_defragment_and_snapshot()
    {
        Assert.Empty(await Client.Maintenance.ListAlarmsAsync(Ct));
        await Client.Maintenance.DefragmentAsync(Target.Endpoints[0], Ct);

        using var snapshot = new MemoryStream();
        var written = await Client.Maintenance.SnapshotAsync(snapshot, cancellationToken: Ct);

        Assert.True(written > 32, $"snapshot of {written} bytes");
        Assert.Equal(written, snapshot.Length);
    }

    [Fact]
    public async Task An_unknown_endpoint_is_refused_before_any_call()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Client.Maintenance.StatusAsync("http://127.0.0.1:1", Ct));
    }
}

[Collection(EtcdCollection.Name)]
public sealed class ClusterReadOnEtcd(EtcdTarget target) : ClusterReadContract(target);

[Collection(CoordinationCollection.Name)]
public sealed class ClusterReadOnCoordination(CoordinationTarget target) : ClusterReadContract(target);

[Collection(ExternalCollection.Name)]
public sealed class ClusterReadOnExternal(ExternalTarget target) : ClusterReadContract(target);

[Collection(EtcdCollection.Name)]
public sealed class MaintenanceOnEtcd(EtcdTarget target) : MaintenanceContract(target);

[Collection(CoordinationCollection.Name)]
public sealed class MaintenanceOnCoordination(CoordinationTarget target) : MaintenanceContract(target);

[Collection(ExternalCollection.Name)]
public sealed class MaintenanceOnExternal(ExternalTarget target) : MaintenanceContract(target);
