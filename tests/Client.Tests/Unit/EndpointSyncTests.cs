using Coordination.Client.Tests.Fixtures;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Client.Tests.Unit;

[Collection(EtcdCollection.Name)]
public sealed class EndpointSyncTests(EtcdTarget etcd)
{
    [Fact]
    public async Task The_periodic_sync_replaces_the_endpoints_with_the_member_urls_on_the_injected_clock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var port = new Uri(etcd.Endpoints[0]).Port;
        await using var client = CoordinationClient.Create(new CoordinationClientOptions
        {
            Endpoints = [$"localhost:{port}"], // reaches the member, but is not its advertised URL
            EndpointSyncInterval = TimeSpan.FromMinutes(1),
            TimeProvider = time,
        });
        Assert.Equal([$"http://localhost:{port}"], client.Endpoints);

        time.Advance(TimeSpan.FromSeconds(59));
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Equal([$"http://localhost:{port}"], client.Endpoints);

        time.Advance(TimeSpan.FromSeconds(1));
        for (var i = 0; i < 100 && client.Endpoints[0] != etcd.Endpoints[0]; i++)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }

        Assert.Equal(etcd.Endpoints, client.Endpoints);
        Assert.Equal(etcd.Endpoints[0], (await client.Cluster.ListAsync(TestContext.Current.CancellationToken))[0].ClientUrls[0]);
    }
}
