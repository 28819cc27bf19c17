using Coordination.Server.Peer.Protocol;

namespace Coordination.Server.Node;

/// <summary>
/// Tells a member that was removed from the cluster while it was down that it was removed, as
/// etcd's peers answer such a member "410 Gone". The others send it nothing any more, so it never
/// applies its own removal and would otherwise wait for a leader forever. While this member has
/// known no leader for <see cref="LeaderlessFor"/>, it asks its peers for their view of the cluster
/// once per election timeout; a peer of the same cluster that lists it as removed makes it stop.
/// </summary>
internal sealed class RemovalCheck(
    ulong self,
    ulong clusterId,
    Func<ulong> leader,
    Func<IEnumerable<ulong>> peers,
    Func<ulong, CancellationToken, Task<ClusterResponse?>> askPeer,
    Action removed,
    TimeSpan electionTimeout,
    TimeProvider time,
    ILogger logger)
{
    /// <summary>How long without a leader before the peers are asked: a few elections' worth.</summary>
    public TimeSpan LeaderlessFor => 3 * electionTimeout;

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled or the member learns it was removed.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(electionTimeout, time);
        long? leaderlessSince = null;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = time.GetTimestamp();
                if (leader() != 0)
                {
                    leaderlessSince = null;
                    continue;
                }
                leaderlessSince ??= now;
                if (time.GetElapsedTime(leaderlessSince.Value, now) < LeaderlessFor) continue;
                foreach (var peer in peers())
                {
                    if (peer == self) continue;
                    var view = await askPeer(peer, cancellationToken).ConfigureAwait(false);
                    if (view is null || view.ClusterId != clusterId || !view.Removed.Contains(self)) continue;
                    logger.LogWarning("this member ({Id:x}) was removed from the cluster while it was away (member {Peer:x} says so); stopping", self, peer);
                    removed();
                    return;
                }
            }
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping: a question to a peer may end as a cancelled call rather than an OperationCanceledException.
        }
    }
}
