using Coordination.Client.Tests.Fixtures;

namespace Coordination.Client.Tests.Resilience;

/// <summary>A real etcd 3.4 serving clients over TLS and requiring client certificates.</summary>
public sealed class TlsTests : IAsyncLifetime
{
    private readonly TlsMaterial _tls = new();
    private EtcdCluster? _etcd;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _etcd = await EtcdCluster.StartAsync(1, Ct, _tls);

    public async ValueTask DisposeAsync()
    {
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }

        _tls.Dispose();
    }

    [Fact]
    public async Task With_the_private_ca_and_a_client_certificate_calls_work()
    {
        await using var client = CoordinationClient.Create(new CoordinationClientOptions
        {
            Endpoints = [.. _etcd!.ClientUrls],
            TrustedCaFile = _tls.CaFile,
            ClientCertificateFile = _tls.ClientCertificateFile,
            ClientKeyFile = _tls.ClientKeyFile,
        });

        await client.Kv.PutAsync("/tls/k", "v", cancellationToken: Ct);

        Assert.StartsWith("https://", client.Endpoints[0], StringComparison.Ordinal);
        Assert.Equal("v", await client.Kv.GetStringAsync("/tls/k", Ct));
    }

    [Fact]
    public async Task Without_trusting_the_ca_the_handshake_fails_and_nothing_is_sent()
    {
        await using var client = CoordinationClient.Create(new CoordinationClientOptions
        {
            Endpoints = [.. _etcd!.ClientUrls],
            ClientCertificateFile = _tls.ClientCertificateFile,
            ClientKeyFile = _tls.ClientKeyFile,
            MaxRetries = 1,
        });

        await Assert.ThrowsAsync<EtcdEndpointUnavailableException>(() => client.Kv.PutAsync("/tls/untrusted", "v", cancellationToken: Ct));
    }

    [Fact]
    public async Task Without_a_client_certificate_the_server_refuses()
    {
        await using var client = CoordinationClient.Create(new CoordinationClientOptions
        {
            Endpoints = [.. _etcd!.ClientUrls],
            TrustedCaFile = _tls.CaFile,
            MaxRetries = 1,
        });

        await Assert.ThrowsAnyAsync<EtcdException>(() => client.Kv.GetAsync("/tls/anything", cancellationToken: Ct));
    }
}
