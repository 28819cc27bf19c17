using Coordination.Client;
using Coordination.Integration.Tests.Containers;
using Coordination.Testcontainers;

namespace Coordination.Integration.Tests.Samples;

/// <summary>The sample of docs/testing.md: a test against a three-member cluster from the Testcontainers module.</summary>
public sealed class ClusterModuleSampleTests
{
    [Fact]
    public async Task A_cluster_test_with_the_testcontainers_module()
    {
        var ct = TestContext.Current.CancellationToken;
        await TestImages.EnsureBuiltAsync(ct); // users build or load the image their own way
        await using var cluster = await new CoordinationClusterBuilder()
            .WithImage("coordination-server:test")
            .WithMembers(3)
            .StartAsync(ct);
        await using var client = CoordinationClient.Create(cluster.ConnectionString);

        await client.Kv.PutAsync("config/feature", "on", cancellationToken: ct);
        await cluster.Members[0].StopAsync(ct);           // a fault: one member down
        Assert.Equal("on", (await client.Kv.GetAsync("config/feature", cancellationToken: ct))?.ValueString);
        await cluster.Members[0].StartAsync(ct);          // back, on the same endpoint
        var members = await client.Cluster.ListAsync(ct);

        Assert.Equal(3, members.Count);
        Assert.Equal(3, cluster.Endpoints.Count);
    }
}
