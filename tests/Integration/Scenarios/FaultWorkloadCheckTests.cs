using Coordination.Client;
using Coordination.Integration.Tests.Containers;

namespace Coordination.Integration.Tests.Scenarios;

/// <summary>
/// Negative controls for <see cref="FaultWorkload"/>'s checks: a lost acknowledged write and a lost
/// kept-alive lease must be reported.
/// </summary>
public sealed class FaultWorkloadCheckTests
{
    [Fact]
    public async Task An_acknowledged_write_deleted_and_the_kept_lease_revoked_behind_the_workloads_back_are_reported()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await ContainerCluster.StartAsync(ClusterKind.Coordination, 1, ct);
        await using var workload = new FaultWorkload(cluster.Members.Select(m => m.ClientUrl));
        await workload.StartAsync(writers: 2, hotClients: 2, ct);
        await workload.WaitForMoreAcknowledgedAsync(50, TimeSpan.FromSeconds(30), ct);

        var victim = workload.AnyAcknowledgedKey;
        await using (var saboteur = CoordinationClient.Create(cluster.Members[0].ClientUrl.ToString().TrimEnd('/')))
        {
            await saboteur.Kv.DeleteAsync(victim, cancellationToken: ct);
            await saboteur.Lease.RevokeAsync(workload.KeptLeaseId, ct);
        }

        var violations = await workload.StopAndVerifyAsync(ct);
        Assert.Contains(violations, v => v.Contains(victim, StringComparison.Ordinal) && v.Contains("missing", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains($"{workload.KeptLeaseId:x}", StringComparison.Ordinal) && v.Contains("did not outlive", StringComparison.Ordinal));
    }
}
