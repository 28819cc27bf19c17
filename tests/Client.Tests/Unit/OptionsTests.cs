using Coordination.Client.Kv;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Coordination.Client.Tests.Unit;

public sealed class OptionsTests
{
    [Fact]
    public void Options_bind_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Coordination:Client:Endpoints:0"] = "http://10.1.1.1:2379",
            ["Coordination:Client:Endpoints:1"] = "10.1.1.2:2379",
            ["Coordination:Client:Username"] = "app",
            ["Coordination:Client:Password"] = "secret",
            ["Coordination:Client:CallTimeout"] = "00:00:03",
            ["Coordination:Client:EndpointSelection"] = "Pinned",
            ["Coordination:Client:EndpointSyncInterval"] = "00:01:00",
        }).Build();
        using var services = new ServiceCollection().AddCoordinationClient(configuration.GetSection("Coordination:Client")).BuildServiceProvider();

        var options = services.GetRequiredService<IOptions<CoordinationClientOptions>>().Value;

        Assert.Equal(["http://10.1.1.1:2379", "10.1.1.2:2379"], options.Endpoints);
        Assert.Equal("app", options.Username);
        Assert.Equal(TimeSpan.FromSeconds(3), options.CallTimeout);
        Assert.Equal(EndpointSelection.Pinned, options.EndpointSelection);
        Assert.Equal(TimeSpan.FromMinutes(1), options.EndpointSyncInterval);
        Assert.Same(TimeProvider.System, options.TimeProvider);
    }

    [Fact]
    public void Invalid_options_are_refused_with_every_problem_named()
    {
        using var services = new ServiceCollection()
            .AddCoordinationClient(o => { o.Password = "x"; o.MaxRetries = -1; })
            .BuildServiceProvider();

        var e = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<ICoordinationClient>());

        Assert.Contains(e.Failures, f => f.StartsWith("Endpoints", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("Password", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("MaxRetries", StringComparison.Ordinal));
        Assert.Throws<OptionsValidationException>(() => CoordinationClient.Create(new CoordinationClientOptions { Endpoints = ["ftp://x"] }));
    }

    [Fact]
    public async Task The_container_hands_out_one_client_and_its_service_clients()
    {
        await using var services = new ServiceCollection()
            .AddCoordinationClient(o => o.Endpoints.Add("http://127.0.0.1:2379"))
            .BuildServiceProvider();

        var client = services.GetRequiredService<ICoordinationClient>();

        Assert.Same(client, services.GetRequiredService<ICoordinationClient>());
        Assert.Same(client.Kv, services.GetRequiredService<IKvClient>());
        Assert.Same(client.Watch, services.GetRequiredService<Watch.IWatchClient>());
        Assert.Same(client.Lease, services.GetRequiredService<Lease.ILeaseClient>());
        Assert.Equal(["http://127.0.0.1:2379"], client.Endpoints);
    }
}
