using Coordination.Server.Errors;
using Coordination.Server.Node;
using Coordination.Server.StateMachine;

namespace Coordination.Server.Tests.Node;

/// <summary>Waiters for proposals: completed when applied, failed by the node loop's sweep once their deadline passed.</summary>
public sealed class ProposalRegistryTests
{
    [Fact]
    public async Task A_sweep_fails_only_the_waiters_whose_deadline_has_passed()
    {
        var registry = new ProposalRegistry();
        var (_, early) = registry.Register(deadline: 100);
        var (_, late) = registry.Register(deadline: 200);
        var (_, never) = registry.Register();

        registry.ExpireDue(now: 150, () => EtcdErrors.Timeout.ToException());

        var error = await Assert.ThrowsAsync<EtcdException>(() => early);
        Assert.Equal("etcdserver: request timed out", error.Error.Message);
        Assert.False(late.IsCompleted);
        Assert.False(never.IsCompleted);

        registry.ExpireDue(now: 200, () => EtcdErrors.Timeout.ToException());
        await Assert.ThrowsAsync<EtcdException>(() => late);
        Assert.False(never.IsCompleted);
    }

    [Fact]
    public async Task A_proposal_applied_before_its_deadline_keeps_its_result_when_the_sweep_comes()
    {
        var registry = new ProposalRegistry();
        var (id, applied) = registry.Register(deadline: 100);
        var result = ApplyResult.Failed(EtcdErrors.NoLeader);

        registry.Complete(id, result);
        registry.ExpireDue(now: 1_000, () => EtcdErrors.Timeout.ToException());

        Assert.Equal(result, await applied);
    }
}
