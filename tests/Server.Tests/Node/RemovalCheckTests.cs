using Coordination.Server.Node;
using Coordination.Server.Peer.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Server.Tests.Node;

/// <summary>A member removed while it was down learns it from its peers once it has waited long enough for a leader.</summary>
public sealed class RemovalCheckTests
{
    private const ulong Self = 3, Cluster = 0xc1;
    private static readonly TimeSpan ElectionTimeout = TimeSpan.FromSeconds(1);

    private readonly FakeTimeProvider _time = new();
    private readonly SemaphoreSlim _ticked = new(0);
    private readonly List<ulong> _asked = new();
    private ulong _leader;
    private int _removedCalls;

    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private RemovalCheck Check(Func<ulong, ClusterResponse?> views) => new(
        Self, Cluster,
        leader: () => { _ticked.Release(); return _leader; },
        peers: () => [1, 2, Self],
        askPeer: (peer, _) => { lock (_asked) _asked.Add(peer); return Task.FromResult(views(peer)); },
        removed: () => Interlocked.Increment(ref _removedCalls),
        ElectionTimeout, _time, NullLogger.Instance);

    private static ClusterResponse View(ulong clusterId, params ulong[] removed)
    {
        var view = new ClusterResponse { ClusterId = clusterId };
        view.Removed.AddRange(removed);
        return view;
    }

    /// <summary>Advances the clock one election timeout at a time and waits for each check to run.</summary>
    private async Task TicksAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            _time.Advance(ElectionTimeout);
            Assert.True(await _ticked.WaitAsync(TimeSpan.FromSeconds(10), Ct), "the check did not run");
        }
    }

    [Fact]
    public async Task A_member_without_a_leader_asks_its_peers_and_stops_when_one_lists_it_as_removed()
    {
        var check = Check(peer => peer == 2 ? View(Cluster, Self) : View(Cluster));
        var running = check.RunAsync(Ct);

        // Leaderless from the first check on: nobody is asked until three election timeouts later.
        await TicksAsync(3);
        lock (_asked) Assert.Empty(_asked);
        await TicksAsync(1);

        await running.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(1, _removedCalls);
        lock (_asked) Assert.Equal([1UL, 2UL], _asked);
    }

    [Fact]
    public async Task A_member_that_knows_a_leader_asks_no_one()
    {
        _leader = 1;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var running = Check(_ => View(Cluster, Self)).RunAsync(stop.Token);

        await TicksAsync(10);
        await stop.CancelAsync();
        await running;

        lock (_asked) Assert.Empty(_asked);
        Assert.Equal(0, _removedCalls);
    }

    [Fact]
    public async Task A_member_no_peer_lists_as_removed_keeps_running_and_keeps_asking()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        // Member 1 does not answer; member 2 answers for another cluster that did remove an id 3.
        var running = Check(peer => peer == 1 ? null : View(0xbad, Self)).RunAsync(stop.Token);

        await TicksAsync(6);
        await stop.CancelAsync();
        await running;

        Assert.Equal(0, _removedCalls);
        lock (_asked) Assert.True(_asked.Count >= 4, $"asked {_asked.Count} times");
    }

    [Fact]
    public async Task A_leader_found_again_restarts_the_wait()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var running = Check(_ => View(Cluster, Self)).RunAsync(stop.Token);

        await TicksAsync(3);
        _leader = 1;
        await TicksAsync(1);
        _leader = 0;
        await TicksAsync(3);
        lock (_asked) Assert.Empty(_asked);

        await stop.CancelAsync();
        await running;
    }
}
