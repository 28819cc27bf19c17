using System.Diagnostics;
using Coordination.Client;
using Coordination.Integration.Tests.Containers;
using Coordination.Testcontainers;

namespace Coordination.Integration.Tests.Scenarios;

/// <summary>
/// Each fault of <see cref="ClusterFault"/> injected into a three-member cluster — ours and the etcd 3.4
/// reference — while <see cref="FaultWorkload"/> runs through the SDK with every member's endpoint:
/// unique-key writers, hot-key clients, a watch from revision 1, mutex contenders guarding a counter
/// with fencing tokens, and a lease kept alive by the SDK. Then: no acknowledged write lost, the
/// hot-key history linearizable, the watch without gap or duplicate, lock exclusivity with strictly
/// increasing tokens, and the lease alive. A failure names the cluster, the member, the fault, the
/// workload's account and the tail of the hot-key history.
/// </summary>
public sealed class FaultScenarioTests
{
    private static readonly TimeSpan Progress = TimeSpan.FromSeconds(30);

    public static TheoryData<ClusterFault, ClusterKind> Scenarios()
    {
        // INTEGRATION_FAULTS=FullRestart,RollingRestart runs only those (for soaks and debugging).
        var only = Environment.GetEnvironmentVariable("INTEGRATION_FAULTS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var data = new TheoryData<ClusterFault, ClusterKind>();
        foreach (var fault in Enum.GetValues<ClusterFault>().Where(f => only is null || only.Contains(f.ToString())))
        {
            data.Add(fault, ClusterKind.Coordination);
            data.Add(fault, ClusterKind.Etcd);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task A_fault_under_load_loses_nothing_and_keeps_every_promise(ClusterFault fault, ClusterKind kind)
    {
        var ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        await using var cluster = await ContainerCluster.StartAsync(kind, 3, ct);
        await using var workload = new FaultWorkload(cluster.Members.Select(m => m.ClientUrl));
        await workload.StartAsync(writers: 3, hotClients: 3, ct, lockContenders: 3);
        await workload.WaitForMoreAcknowledgedAsync(60, Progress, ct);

        var account = new List<string>();
        try
        {
            await InjectAsync(fault, cluster, workload, new Account(account, clock), ct);
            await workload.WaitForMoreAcknowledgedAsync(40, Progress, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Assert.Fail($"{cluster}, fault {fault}: {string.Join("; ", account)}; the cluster made no progress: {e.GetType().Name}: {e.Message}; {workload.Describe()}\n    {workload.HistoryTail(20)}");
        }

        var violations = await workload.StopAndVerifyAsync(ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"{kind} {fault}: {string.Join("; ", account)}; {workload.Describe()}; {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(violations.Count == 0,
            $"{cluster}, fault {fault}: {string.Join("; ", account)}; {workload.Describe()}:\n  " + string.Join("\n  ", violations.Take(20))
            + $"\n  last hot-key operations:\n    {workload.HistoryTail(20)}");
    }

    private static async Task InjectAsync(ClusterFault fault, ContainerCluster cluster, FaultWorkload workload, Account account, CancellationToken ct)
    {
        switch (fault)
        {
            case ClusterFault.LeaderStopped:
            {
                var leader = await cluster.LeaderAsync(ct);
                account.Add($"stopped leader {leader}");
                await leader.StopAsync(ct);
                await workload.WaitForMoreAcknowledgedAsync(80, Progress, ct);
                account.Add($"started {leader}");
                await leader.StartAsync(ct);
                break;
            }
            case ClusterFault.FollowerPaused:
            {
                var follower = await cluster.FollowerAsync(ct);
                account.Add($"paused follower {follower}");
                await follower.PauseAsync(ct);
                await workload.WaitForMoreAcknowledgedAsync(80, Progress, ct);
                account.Add($"unpaused {follower}");
                await follower.UnpauseAsync(ct);
                break;
            }
            case ClusterFault.LeaderDisconnected:
            {
                var leader = await cluster.LeaderAsync(ct);
                account.Add($"disconnected leader {leader}");
                await leader.DisconnectAsync(ct);
                await workload.WaitForMoreAcknowledgedAsync(80, Progress, ct);
                account.Add($"reconnected {leader}");
                await leader.ReconnectAsync(ct);
                break;
            }
            case ClusterFault.FullRestart:
            {
                account.Add("stopped every member");
                await Task.WhenAll(cluster.Members.Select(m => m.StopAsync(ct)));
                account.Add("started every member");
                await Task.WhenAll(cluster.Members.Select(m => m.StartAsync(ct)));
                account.Add("every member healthy");
                break;
            }
            case ClusterFault.RollingRestart:
            {
                foreach (var member in cluster.Members.ToList())
                {
                    account.Add($"restarted {member}");
                    await member.StopAsync(ct);
                    await workload.WaitForMoreAcknowledgedAsync(20, Progress, ct);
                    await member.StartAsync(ct);
                    await workload.WaitForMoreAcknowledgedAsync(20, Progress, ct);
                }
                break;
            }
            case ClusterFault.MemberAddedAndRemoved:
            {
                await using var admin = CoordinationClient.Create(cluster.Cluster.ConnectionString);
                // etcd refuses reconfiguration ("unhealthy cluster") until its leader has been connected
                // to every member for a while after start-up: retry, bounded.
                var (added, members) = await RetryWhileUnhealthyAsync(() => admin.Cluster.AddAsync([$"http://node4:{CoordinationCluster.PeerPort}"], cancellationToken: ct), ct);
                account.Add($"added member {added.Id:x} (node4)");
                var initial = members.Select(m => (Name: m.Id == added.Id ? "node4" : m.Name, PeerUrl: m.PeerUrls[0]));
                var node4 = await cluster.Cluster.StartAddedMemberAsync("node4", initial, ct);
                account.Add($"started {node4}");
                await workload.WaitForMoreAcknowledgedAsync(50, Progress, ct);
                var victim = cluster.Members[0];
                var victimId = (await admin.Maintenance.StatusAsync(victim.Endpoint, ct)).Header.MemberId;
                await RetryWhileUnhealthyAsync(() => admin.Cluster.RemoveAsync(victimId, ct), ct);
                account.Add($"removed member {victimId:x} ({victim})");
                await cluster.Cluster.DropMemberAsync(victim, ct);
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, null);
        }
    }

    private static async Task<T> RetryWhileUnhealthyAsync<T>(Func<Task<T>> call, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception e) when (e.Message.Contains("unhealthy cluster", StringComparison.Ordinal) && deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(500, ct);
            }
        }
    }

    /// <summary>What the scenario did and when (seconds since the test started), for reports and failure messages.</summary>
    private sealed class Account(List<string> entries, Stopwatch clock)
    {
        public void Add(string entry) => entries.Add($"{clock.Elapsed.TotalSeconds:F1}s {entry}");
    }
}
