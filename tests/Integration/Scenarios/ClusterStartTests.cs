using Coordination.Integration.Tests.Containers;

namespace Coordination.Integration.Tests.Scenarios;

/// <summary>
/// The container harness itself: clusters of both kinds start from images built from the
/// repository, serve through mapped ports, and keep acknowledged writes across member restarts.
/// Fault scenarios on a three-member cluster of our server follow the cluster issue.
/// </summary>
public sealed class ClusterStartTests
{
    [Fact]
    public async Task Three_member_etcd_reference_cluster_serves_on_when_the_member_a_client_uses_stops()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await ContainerCluster.StartAsync(ClusterKind.Etcd, 3, ct);
        var acknowledged = new Dictionary<string, string>();
        var first = cluster.Members[0];
        using (var kv = new Kv(first.ClientUrl))
        {
            for (var i = 0; i < 20; i++)
            {
                await kv.PutAsync($"it/k{i:D2}", $"before-{i}", ct);
                acknowledged[$"it/k{i:D2}"] = $"before-{i}";
            }
        }

        await first.Container.StopAsync(ct);
        using (var kv = new Kv(cluster.Members[1].ClientUrl))
        {
            for (var i = 20; i < 40; i++)
            {
                await kv.PutAsync($"it/k{i:D2}", $"during-{i}", ct);
                acknowledged[$"it/k{i:D2}"] = $"during-{i}";
            }
        }

        await first.Container.StartAsync(ct);
        using (var kv = new Kv(first.ClientUrl))
        {
            var seen = await kv.GetPrefixAsync("it/", ct);
            Assert.True(acknowledged.OrderBy(p => p.Key).SequenceEqual(seen.OrderBy(p => p.Key)),
                $"{cluster}: after {first} stopped and restarted it holds {seen.Count} of {acknowledged.Count} acknowledged writes");
        }
    }

    [Fact]
    public async Task Our_single_member_server_in_a_container_keeps_acknowledged_writes_across_a_restart()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await ContainerCluster.StartAsync(ClusterKind.Coordination, 1, ct);
        var member = cluster.Members[0];
        var acknowledged = new Dictionary<string, string>();
        long lastRevision;
        using (var kv = new Kv(member.ClientUrl))
        {
            lastRevision = 0;
            for (var i = 0; i < 50; i++)
            {
                lastRevision = await kv.PutAsync($"it/k{i:D2}", $"v{i}", ct);
                acknowledged[$"it/k{i:D2}"] = $"v{i}";
            }
        }

        await member.Container.StopAsync(ct);
        await member.Container.StartAsync(ct);
        using (var kv = new Kv(member.ClientUrl))
        {
            var seen = await kv.GetPrefixAsync("it/", ct);
            Assert.True(acknowledged.OrderBy(p => p.Key).SequenceEqual(seen.OrderBy(p => p.Key)),
                $"{cluster}: after a restart {member} holds {seen.Count} of {acknowledged.Count} acknowledged writes");
            var next = await kv.PutAsync("it/after", "restart", ct);
            Assert.Equal(lastRevision + 1, next);
        }
    }
}
