using Coordination.Client;
using Coordination.Server.Embedding;

namespace Coordination.Integration.Tests.Samples;

/// <summary>The sample of docs/testing.md: a unit test against an in-process server on a free port.</summary>
public sealed class EmbeddedServerSampleTests
{
    [Fact]
    public async Task A_unit_test_against_an_embedded_server()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await EmbeddedServer.StartAsync(ct);
        await using var client = CoordinationClient.Create(server.EndpointString);

        await client.Kv.PutAsync("greeting", "hello", cancellationToken: ct);

        Assert.Equal("hello", (await client.Kv.GetAsync("greeting", cancellationToken: ct))?.ValueString);
    }

    [Fact]
    public async Task Two_embedded_servers_run_side_by_side_and_leave_nothing_behind()
    {
        var ct = TestContext.Current.CancellationToken;
        var first = await EmbeddedServer.StartAsync(ct);
        var second = await EmbeddedServer.StartAsync(ct);
        Assert.NotEqual(first.Endpoint, second.Endpoint);
        await using (var client = CoordinationClient.Create(first.EndpointString))
        {
            await client.Kv.PutAsync("only-in-first", "1", cancellationToken: ct);
        }
        await using (var client = CoordinationClient.Create(second.EndpointString))
        {
            Assert.Null(await client.Kv.GetAsync("only-in-first", cancellationToken: ct));
        }

        await first.DisposeAsync();
        await second.DisposeAsync();
        Assert.False(Directory.Exists(first.DataDir), $"{first.DataDir} was not removed");
        Assert.False(Directory.Exists(second.DataDir), $"{second.DataDir} was not removed");
    }

    [Fact]
    public async Task An_embedded_server_on_a_given_data_directory_keeps_its_data_across_restarts()
    {
        var ct = TestContext.Current.CancellationToken;
        var dir = Directory.CreateTempSubdirectory("coordination-sample-").FullName;
        try
        {
            await using (var server = await EmbeddedServer.StartAsync(new EmbeddedServerOptions { DataDir = dir }, ct))
            await using (var client = CoordinationClient.Create(server.EndpointString))
            {
                await client.Kv.PutAsync("durable", "yes", cancellationToken: ct);
            }
            await using (var server = await EmbeddedServer.StartAsync(new EmbeddedServerOptions { DataDir = dir }, ct))
            await using (var client = CoordinationClient.Create(server.EndpointString))
            {
                Assert.Equal("yes", (await client.Kv.GetAsync("durable", cancellationToken: ct))?.ValueString);
            }
            Assert.True(Directory.Exists(dir), "a data directory the caller gave is the caller's to remove");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
