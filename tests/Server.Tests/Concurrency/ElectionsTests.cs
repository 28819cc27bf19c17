using Coordination.Server.Concurrency;
using Coordination.Server.Errors;
using Etcdserverpb;
using Google.Protobuf;
using V3Electionpb;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Concurrency;

/// <summary>Elections over an in-memory member: campaign, hand-over, proclaim, leader, observe, resign.</summary>
public sealed class ElectionsTests
{
    private readonly InMemoryCoordination _member = new();
    private readonly Elections _elections;

    public ElectionsTests()
    {
        _elections = new Elections(_member, _member);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<long> GrantAsync() => (await _member.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }, Ct)).ID;

    private Task<CampaignResponse> CampaignAsync(string name, long lease, string value, CancellationToken? ct = null) =>
        _elections.CampaignAsync(new CampaignRequest { Name = B(name), Lease = lease, Value = B(value) }, ct ?? Ct);

    private static Task<T> Within<T>(Task<T> task) => task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

    [Fact]
    public async Task An_uncontended_campaign_leads_at_once_with_etcds_leader_key()
    {
        var lease = await GrantAsync();
        var won = await CampaignAsync("el", lease, "a");
        Assert.Equal("el", S(won.Leader.Name));
        Assert.Equal($"el/{lease:x}", S(won.Leader.Key));
        Assert.Equal(lease, won.Leader.Lease);
        Assert.Equal(_member.Revision, won.Leader.Rev);
        Assert.Equal(won.Leader.Rev, won.Header.Revision);

        var leader = _elections.Leader(B("el"));
        Assert.Equal(("a", won.Leader.Key, won.Leader.Rev, lease), (S(leader.Kv.Value), leader.Kv.Key, leader.Kv.CreateRevision, leader.Kv.Lease));
    }

    [Fact]
    public async Task Leadership_hands_over_to_the_next_candidate_when_the_leader_resigns()
    {
        var first = await CampaignAsync("el", await GrantAsync(), "a");
        var secondLease = await GrantAsync();
        var second = CampaignAsync("el", secondLease, "b");
        Assert.False(second.IsCompleted);
        Assert.Equal("a", S(_elections.Leader(B("el")).Kv.Value));

        var resigned = await _elections.ResignAsync(first.Leader, Ct);
        Assert.Equal(_member.Revision, resigned.Revision);
        var won = await Within(second);
        Assert.Equal($"el/{secondLease:x}", S(won.Leader.Key));
        Assert.Equal("b", S(_elections.Leader(B("el")).Kv.Value));
    }

    [Fact]
    public async Task The_next_candidate_leads_when_the_leaders_lease_expires()
    {
        var firstLease = await GrantAsync();
        await CampaignAsync("el", firstLease, "a");
        var second = CampaignAsync("el", await GrantAsync(), "b");
        _member.Revoke(firstLease);
        await Within(second);
        Assert.Equal("b", S(_elections.Leader(B("el")).Kv.Value));
    }

    [Fact]
    public async Task Proclaim_updates_the_value_only_while_leader()
    {
        var won = await CampaignAsync("el", await GrantAsync(), "a");
        var proclaimed = await _elections.ProclaimAsync(won.Leader, B("a2"), Ct);
        Assert.Equal(_member.Revision, proclaimed.Revision);
        var leader = _elections.Leader(B("el"));
        Assert.Equal(("a2", won.Leader.Rev, 2L), (S(leader.Kv.Value), leader.Kv.CreateRevision, leader.Kv.Version));

        var stale = won.Leader.Clone();
        stale.Rev = won.Leader.Rev - 1;
        Assert.Equal(ConcurrencyErrors.NotLeader, (await Assert.ThrowsAsync<EtcdException>(() => _elections.ProclaimAsync(stale, B("x"), Ct))).Error);

        await _elections.ResignAsync(won.Leader, Ct);
        var error = await Assert.ThrowsAsync<EtcdException>(() => _elections.ProclaimAsync(won.Leader, B("late"), Ct));
        Assert.Equal("election: not leader", error.Error.Message);
        // Resigning again is a no-op, not an error.
        var revision = _member.Revision;
        await _elections.ResignAsync(won.Leader, Ct);
        Assert.Equal(revision, _member.Revision);
    }

    [Fact]
    public async Task Errors_for_no_leader_and_a_missing_leader_key()
    {
        Assert.Equal("election: no leader", Assert.Throws<EtcdException>(() => _elections.Leader(B("nobody"))).Error.Message);
        Assert.Equal("\"leader\" field must be provided", (await Assert.ThrowsAsync<EtcdException>(() => _elections.ProclaimAsync(null, B("v"), Ct))).Error.Message);
        Assert.Equal(ConcurrencyErrors.MissingLeaderKey, (await Assert.ThrowsAsync<EtcdException>(() => _elections.ResignAsync(null, Ct))).Error);
        Assert.Equal(EtcdErrors.LeaseNotFound, (await Assert.ThrowsAsync<EtcdException>(() => CampaignAsync("el", 0xbad, "v"))).Error);
    }

    [Fact]
    public async Task Campaigning_again_with_the_same_lease_keeps_the_key_and_proclaims_the_new_value()
    {
        var lease = await GrantAsync();
        var first = await CampaignAsync("el", lease, "a");
        var again = await CampaignAsync("el", lease, "b");
        Assert.Equal((first.Leader.Key, first.Leader.Rev), (again.Leader.Key, again.Leader.Rev));
        Assert.Equal("b", S(_elections.Leader(B("el")).Kv.Value));
    }

    [Fact]
    public async Task A_candidate_that_gives_up_withdraws_its_key()
    {
        await CampaignAsync("el", await GrantAsync(), "a");
        var lease = await GrantAsync();
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var waiting = CampaignAsync("el", lease, "b", giveUp.Token);
        Assert.True(_member.Exists($"el/{lease:x}"));
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.False(_member.Exists($"el/{lease:x}"));
    }

    [Fact]
    public async Task Observe_streams_the_first_leader_its_proclamations_and_each_next_leader()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        await using var observed = _elections.ObserveAsync(B("el"), stop.Token).GetAsyncEnumerator(stop.Token);
        async Task<string> NextAsync()
        {
            Assert.True(await observed.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct));
            Assert.True(observed.Current.Header.Revision >= observed.Current.Kv.ModRevision);
            return S(observed.Current.Kv.Value);
        }

        var next = NextAsync(); // nobody campaigns yet: waits for the first put
        Assert.False(next.IsCompleted);
        var first = await CampaignAsync("el", await GrantAsync(), "a");
        Assert.Equal("a", await next);
        var second = CampaignAsync("el", await GrantAsync(), "b");
        await _elections.ProclaimAsync(first.Leader, B("a2"), Ct);
        Assert.Equal("a2", await NextAsync());
        await _elections.ResignAsync(first.Leader, Ct);
        Assert.Equal("b", await NextAsync());
        await Within(second);
        await stop.CancelAsync();
    }

    [Fact]
    public async Task Observe_starts_with_the_current_leader()
    {
        await CampaignAsync("el", await GrantAsync(), "a");
        await _member.TxnAsync(new TxnRequest { Success = { new RequestOp { RequestPut = new PutRequest { Key = B("unrelated"), Value = ByteString.Empty } } } }, Ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        await using var observed = _elections.ObserveAsync(B("el"), stop.Token).GetAsyncEnumerator(stop.Token);
        Assert.True(await observed.MoveNextAsync());
        Assert.Equal("a", S(observed.Current.Kv.Value));
        Assert.Equal(_member.Revision, observed.Current.Header.Revision);
        await stop.CancelAsync();
    }
}
