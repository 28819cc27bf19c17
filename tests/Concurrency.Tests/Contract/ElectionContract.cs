using System.Globalization;
using System.Threading.Channels;
using Coordination.Concurrency.Sessions;
using Coordination.Concurrency.Tests.Fixtures;

namespace Coordination.Concurrency.Tests.Contract;

public abstract class ElectionContract(ConcurrencyTarget target) : TargetTestBase(target)
{
    private static readonly TimeSpan StillWaiting = TimeSpan.FromMilliseconds(600);
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_leader_is_the_name_slash_the_lease_in_hex_with_the_proposal_as_value()
    {
        await using var session = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        var election = Recipes.CreateElection(session, Name);
        Assert.Null(await election.GetLeaderAsync(Ct));

        await using var leadership = await election.CampaignAsync("node-a", Ct);

        var leader = await election.GetLeaderAsync(Ct);
        Assert.NotNull(leader);
        Assert.Equal($"{Name}/{session.LeaseId.ToString("x", CultureInfo.InvariantCulture)}", leader.Key);
        Assert.Equal(leadership.Key, leader.Key);
        Assert.Equal("node-a", leader.Value);
        Assert.Equal(session.LeaseId, leader.LeaseId);
        Assert.Equal(leadership.CreateRevision, leader.CreateRevision);
    }

    [Fact]
    public async Task Proclaim_changes_the_value_and_fails_once_resigned()
    {
        await using var session = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        var election = Recipes.CreateElection(session, Name);
        var leadership = await election.CampaignAsync("v1", Ct);

        await leadership.ProclaimAsync("v2", Ct);
        Assert.Equal("v2", (await election.GetLeaderAsync(Ct))?.Value);

        await leadership.ResignAsync(Ct);
        Assert.Null(await election.GetLeaderAsync(Ct));
        Assert.True(leadership.LeadershipLostToken.IsCancellationRequested);
        await Assert.ThrowsAsync<ElectionNotLeaderException>(() => leadership.ProclaimAsync("v3", Ct));
    }

    [Fact]
    public async Task Leadership_passes_to_the_next_candidate_on_resign()
    {
        await using var s1 = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        await using var s2 = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        var first = await Recipes.CreateElection(s1, Name).CampaignAsync("one", Ct);
        var second = Recipes.CreateElection(s2, Name).CampaignAsync("two", Ct);
        await Task.WhenAny(second, Task.Delay(StillWaiting, Ct));
        Assert.False(second.IsCompleted);

        await first.ResignAsync(Ct);

        await using var leads = await second.WaitAsync(Soon, Ct);
        Assert.Equal("two", (await Recipes.ObserveElection(Name).GetLeaderAsync(Ct))?.Value);
        Assert.True(leads.CreateRevision > first.CreateRevision);
    }

    [Fact]
    public async Task Leadership_passes_within_about_the_ttl_when_the_leaders_session_is_lost()
    {
        var ttl = TimeSpan.FromSeconds(2);
        await using var s1 = await Recipes.CreateSessionAsync(new SessionOptions { Ttl = ttl }, Ct);
        await using var s2 = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        var first = await Recipes.CreateElection(s1, Name).CampaignAsync("one", Ct);
        var second = Recipes.CreateElection(s2, Name).CampaignAsync("two", Ct);
        await Task.WhenAny(second, Task.Delay(StillWaiting, Ct));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await ((CoordinationSession)s1).AbandonKeepAliveAsync(); // the leader stops renewing, as a partitioned process would

        await using var leads = await second.WaitAsync(Soon, Ct);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, ttl + TimeSpan.FromSeconds(2.5));
        await SessionContract.WaitLostAsync(first.LeadershipLostToken, ttl + TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Campaign_aborts_when_its_session_is_lost()
    {
        await using var s1 = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        await using var s2 = await Recipes.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(3) }, Ct);
        await using var leads = await Recipes.CreateElection(s1, Name).CampaignAsync("one", Ct);
        var waiting = Recipes.CreateElection(s2, Name).CampaignAsync("two", Ct);
        await Task.WhenAny(waiting, Task.Delay(StillWaiting, Ct));

        await NewClient().Lease.RevokeAsync(s2.LeaseId, Ct);

        await Assert.ThrowsAsync<SessionExpiredException>(() => waiting.WaitAsync(Soon, Ct));
        Assert.Equal("one", (await Recipes.ObserveElection(Name).GetLeaderAsync(Ct))?.Value);
    }

    [Fact]
    public async Task Observe_reports_no_leader_and_every_leader_change_in_order()
    {
        var observed = Channel.CreateUnbounded<LeaderChange>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var observer = Task.Run(async () =>
        {
            try
            {
                await foreach (var change in Recipes.ObserveElection(Name).ObserveAsync(stop.Token))
                {
                    observed.Writer.TryWrite(change);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        }, Ct);
        Assert.Null((await NextAsync(observed)).Leader);

        await using var s1 = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        await using var s2 = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        var one = await Recipes.CreateElection(s1, Name).CampaignAsync("one", Ct);
        Assert.Equal("one", (await NextAsync(observed)).Leader?.Value);
        await one.ProclaimAsync("one-b", Ct);
        Assert.Equal("one-b", (await NextAsync(observed)).Leader?.Value);
        var twoCampaign = Recipes.CreateElection(s2, Name).CampaignAsync("two", Ct);
        await Task.Delay(StillWaiting, Ct); // a waiting candidate is no leader change
        await one.ResignAsync(Ct);
        var two = await twoCampaign.WaitAsync(Soon, Ct);
        var afterResign = await NextAsync(observed);
        Assert.Equal("two", afterResign.Leader?.Value);
        Assert.Equal(two.Key, afterResign.Leader?.Key);
        await two.ResignAsync(Ct);
        var none = await NextAsync(observed);
        Assert.False(none.HasLeader);

        Assert.True(afterResign.Revision > 0 && none.Revision > afterResign.Revision);
        await stop.CancelAsync();
        await observer.WaitAsync(Soon, Ct);
        Assert.False(observed.Reader.TryRead(out var extra), $"unexpected change {extra}");
    }

    private static async Task<LeaderChange> NextAsync(Channel<LeaderChange> observed) =>
        await observed.Reader.ReadAsync(Ct).AsTask().WaitAsync(Soon, Ct);
}

[Collection(EtcdCollection.Name)]
public sealed class ElectionOnEtcd(EtcdTarget target) : ElectionContract(target);

[Collection(CoordinationCollection.Name)]
public sealed class ElectionOnCoordination(CoordinationTarget target) : ElectionContract(target);
