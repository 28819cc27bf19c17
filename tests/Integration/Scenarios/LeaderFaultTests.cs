using Coordination.Client;
using Coordination.Integration.Tests.Containers;

namespace Coordination.Integration.Tests.Scenarios;

/// <summary>
/// The leader of a three-member cluster is stopped while clients write, read and watch through every
/// member, then started again: no acknowledged write is lost, the hot-key history is linearizable,
/// and the watch sees every revision once. Runs against the etcd 3.4 reference cluster; our own
/// cluster joins this theory once the server forms multi-member clusters.
/// </summary>
public sealed class LeaderFaultTests
{
    [Theory]
    [InlineData(ClusterKind.Etcd)]
    public async Task Stopping_the_leader_under_writes_loses_nothing_and_stays_linearizable(ClusterKind kind)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await ContainerCluster.StartAsync(kind, 3, ct);
        await using var workload = new FaultWorkload(cluster.Members.Select(m => m.ClientUrl));
        await workload.StartAsync(writers: 3, hotClients: 3, ct);
        await workload.WaitForMoreAcknowledgedAsync(100, TimeSpan.FromSeconds(30), ct);

        var leader = await LeaderAsync(cluster, ct);
        await leader.Container.StopAsync(ct);
        await workload.WaitForMoreAcknowledgedAsync(100, TimeSpan.FromSeconds(30), ct);
        await leader.Container.StartAsync(ct);
        await workload.WaitForMoreAcknowledgedAsync(50, TimeSpan.FromSeconds(30), ct);

        var violations = await workload.StopAndVerifyAsync(ct);
        Assert.True(violations.Count == 0,
            $"{cluster}, fault: stopped leader {leader} and restarted it; {workload.Describe()}:\n  " + string.Join("\n  ", violations.Take(20)));
    }

    /// <summary>The member every member names as leader.</summary>
    private static async Task<ClusterMember> LeaderAsync(ContainerCluster cluster, CancellationToken ct)
    {
        await using var client = CoordinationClient.Create(string.Join(",", cluster.Members.Select(m => m.ClientUrl.ToString().TrimEnd('/'))));
        var ids = new Dictionary<ulong, ClusterMember>();
        ulong leaderId = 0;
        foreach (var member in cluster.Members)
        {
            var status = await client.Maintenance.StatusAsync(member.ClientUrl.ToString().TrimEnd('/'), ct);
            ids[status.Header.MemberId] = member;
            leaderId = status.Leader;
        }
        return ids.TryGetValue(leaderId, out var leader) ? leader : throw new InvalidOperationException($"{cluster}: no member is the leader {leaderId:x}");
    }
}
