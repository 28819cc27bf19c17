using Coordination.Client;
using Coordination.Client.Kv;
using Coordination.Integration.Tests.Containers;

namespace Coordination.Integration.Tests.Scenarios;

/// <summary>
/// The container harness itself on our server: a member started from the image built from the
/// repository serves through its mapped port and keeps acknowledged writes across a container stop
/// and start. (Multi-member clusters under faults: <see cref="FaultScenarioTests"/>.)
/// </summary>
public sealed class ClusterStartTests
{
    [Fact]
    public async Task Our_single_member_server_in_a_container_keeps_acknowledged_writes_across_a_restart()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = await ContainerCluster.StartAsync(ClusterKind.Coordination, 1, ct);
        var member = cluster.Members[0];
        var acknowledged = new Dictionary<string, string>();
        long lastRevision = 0;
        await using (var client = CoordinationClient.Create(member.ClientUrl.ToString().TrimEnd('/')))
        {
            for (var i = 0; i < 50; i++)
            {
                lastRevision = (await client.Kv.PutAsync($"it/k{i:D2}", $"v{i}", cancellationToken: ct)).Header.Revision;
                acknowledged[$"it/k{i:D2}"] = $"v{i}";
            }
        }

        await member.StopAsync(ct);
        await member.StartAsync(ct);
        await using (var client = CoordinationClient.Create(member.ClientUrl.ToString().TrimEnd('/')))
        {
            var seen = (await client.Kv.GetPrefixAsync("it/", cancellationToken: ct)).Kvs.ToDictionary(kv => kv.KeyString, kv => kv.ValueString);
            Assert.True(acknowledged.OrderBy(p => p.Key).SequenceEqual(seen.OrderBy(p => p.Key)),
                $"{cluster}: after a restart {member} holds {seen.Count} of {acknowledged.Count} acknowledged writes");
            var next = await client.Kv.PutAsync("it/after", "restart", cancellationToken: ct);
            Assert.Equal(lastRevision + 1, next.Header.Revision);
        }
    }
}
