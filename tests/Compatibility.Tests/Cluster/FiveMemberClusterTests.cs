using System.Collections.Concurrent;
using System.Diagnostics;

namespace Coordination.Compatibility.Tests.Cluster;

/// <summary>
/// Five members tolerate two failures: with the leader and one follower killed while clients write
/// through every member, the three survivors elect a leader and keep acknowledging writes, lose none,
/// and both killed members come back, catch up and agree on the key-value hash.
/// </summary>
[Collection(LocalCluster.Collection)]
public sealed class FiveMemberClusterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_members_down_of_five_keep_the_cluster_writing_and_both_catch_up()
    {
        await using var cluster = await LocalCluster.StartAsync(5, Ct);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(15), Ct);
        var follower = cluster.Members.First(m => m != leader);
        var acknowledged = new ConcurrentDictionary<string, string>();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 5).Select(w => Task.Run(() => LeaderFailoverTests.WriteAsync(cluster, w, acknowledged, stop.Token))).ToList();

        await Task.Delay(1000, Ct);
        follower.Kill();
        leader.Kill();
        var clock = Stopwatch.StartNew();
        var newLeader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(10), Ct);
        var failover = clock.Elapsed;
        var afterFailover = acknowledged.Count;
        await Task.Delay(2000, Ct);
        var withTwoDown = acknowledged.Count - afterFailover;
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"new leader after {failover.TotalMilliseconds:F0} ms; {withTwoDown} writes acknowledged in 2 s with two members down; {acknowledged.Count} in all");
        Assert.DoesNotContain(newLeader, new[] { leader, follower });
        Assert.True(failover < TimeSpan.FromMilliseconds(2 * LocalCluster.ElectionTimeoutMs + 1500), $"a new leader took {failover.TotalMilliseconds:F0} ms");
        Assert.True(withTwoDown > 20, $"only {withTwoDown} writes were acknowledged in 2 s with two of five members down");
        foreach (var member in cluster.Members.Where(m => m.IsRunning))
            await LeaderFailoverTests.AssertHoldsAsync(member, acknowledged, serializable: false);

        var initialCluster = string.Join(",", cluster.Members.Select(m => $"{m.Name}={m.PeerUrl}"));
        leader.Start(initialCluster, "new");
        follower.Start(initialCluster, "new");
        await ClusterMembershipTests.WaitForEqualHashesAsync(cluster, newLeader, 5);
        await LeaderFailoverTests.AssertHoldsAsync(leader, acknowledged, serializable: true);
        await LeaderFailoverTests.AssertHoldsAsync(follower, acknowledged, serializable: true);
    }
}
