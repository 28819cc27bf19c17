using System.Net;
using System.Net.Sockets;
using Coordination.Server.Hosting;
using Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Time.Testing;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Lease;

/// <summary>
/// A whole member in process on a fake clock, driven over gRPC: leases expire through the write
/// path, keep-alives extend them, a restart gives them their full TTL again.
/// </summary>
/// <remarks>
/// Expiry is proposed from inside <see cref="FakeTimeProvider.Advance"/> (the check timer fires
/// there and enqueues the revocation synchronously), so a write sent afterwards is ordered after
/// it in the log: the tests use such a write as a barrier instead of waiting.
/// </remarks>
public sealed class LeaseServiceTests : IAsyncDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "coord-lease-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly int _port = FreePort();
    private ServerHost? _server;
    private GrpcChannel? _channel;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Etcdserverpb.Lease.LeaseClient Leases => new(_channel);

    private KV.KVClient Kv => new(_channel);

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private async Task StartAsync(long snapshotCount = 100_000)
    {
        var options = CommandLine.Parse(
            ["--data-dir", _dataDir, "--listen-client-urls", $"http://127.0.0.1:{_port}", "--log-level", "warn",
             "--snapshot-count", snapshotCount.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            new Dictionary<string, string>());
        _server = await ServerHost.StartAsync(options, _time, Ct);
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{_port}");
    }

    private async Task StopAsync()
    {
        _channel?.Dispose();
        _channel = null;
        if (_server is not null) await _server.DisposeAsync();
        _server = null;
    }

    private async Task<long> PutAsync(string key, long lease = 0) =>
        (await Kv.PutAsync(new PutRequest { Key = B(key), Value = B("v"), Lease = lease }, cancellationToken: Ct)).Header.Revision;

    private async Task<RangeResponse> GetPrefixAsync(string prefix, long revision = 0) =>
        await Kv.RangeAsync(new RangeRequest { Key = B(prefix), RangeEnd = B(prefix[..^1] + (char)(prefix[^1] + 1)), Revision = revision }, cancellationToken: Ct);

    private async Task<long> TtlAsync(long id) =>
        (await Leases.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = id }, cancellationToken: Ct)).TTL;

    [Fact]
    public async Task An_expired_lease_is_revoked_through_the_log_deleting_its_keys_in_one_revision()
    {
        await StartAsync();
        var grant = await Leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 5 }, cancellationToken: Ct);
        Assert.True(grant.ID > 0);
        Assert.Equal(5, grant.TTL);
        await PutAsync("e/1", grant.ID);
        await PutAsync("e/2", grant.ID);
        var lastWrite = await PutAsync("e/free");

        _time.Advance(TimeSpan.FromSeconds(4.5));
        Assert.Equal(3, (await GetPrefixAsync("e/")).Count);
        _time.Advance(TimeSpan.FromSeconds(1));
        var barrier = await PutAsync("barrier");

        Assert.Equal(lastWrite + 2, barrier); // one revision for the expiry, then the barrier
        Assert.Equal(["e/1", "e/2", "e/free"], (await GetPrefixAsync("e/", lastWrite)).Kvs.Select(kv => S(kv.Key)));
        Assert.Equal(["e/free"], (await GetPrefixAsync("e/", lastWrite + 1)).Kvs.Select(kv => S(kv.Key)));
        Assert.Equal(-1, await TtlAsync(grant.ID));
        Assert.Empty((await Leases.LeaseLeasesAsync(new LeaseLeasesRequest(), cancellationToken: Ct)).Leases);
    }

    [Fact]
    public async Task One_keep_alive_stream_renews_many_leases_and_answers_ttl_0_for_unknown_ones()
    {
        await StartAsync();
        var a = await Leases.LeaseGrantAsync(new LeaseGrantRequest { ID = 100, TTL = 10 }, cancellationToken: Ct);
        var b = await Leases.LeaseGrantAsync(new LeaseGrantRequest { ID = 200, TTL = 20 }, cancellationToken: Ct);
        using var stream = Leases.LeaseKeepAlive(cancellationToken: Ct);

        async Task<LeaseKeepAliveResponse> KeepAliveAsync(long id)
        {
            await stream.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id }, Ct);
            Assert.True(await stream.ResponseStream.MoveNext(Ct));
            return stream.ResponseStream.Current;
        }

        for (var round = 0; round < 5; round++)
        {
            _time.Advance(TimeSpan.FromSeconds(8)); // 40 s in all: far beyond both TTLs
            Assert.Equal((100L, 10L), ((await KeepAliveAsync(a.ID)).ID, (await KeepAliveAsync(a.ID)).TTL));
            Assert.Equal(20, (await KeepAliveAsync(b.ID)).TTL);
        }
        var unknown = await KeepAliveAsync(12345);
        Assert.Equal((12345L, 0L), (unknown.ID, unknown.TTL));
        Assert.True(unknown.Header.Revision > 0);
        Assert.Equal(10, await TtlAsync(a.ID));

        // Stop renewing a: it expires, and its keep-alive then answers 0 on the same stream.
        _time.Advance(TimeSpan.FromSeconds(10.5));
        await PutAsync("barrier");
        Assert.Equal(-1, await TtlAsync(a.ID));
        Assert.Equal(0, (await KeepAliveAsync(a.ID)).TTL);
        Assert.Equal(20, (await KeepAliveAsync(b.ID)).TTL);
        await stream.RequestStream.CompleteAsync();
        Assert.False(await stream.ResponseStream.MoveNext(Ct));
    }

    [Fact]
    public async Task Time_to_live_reports_remaining_and_granted_ttl_and_the_keys_when_asked()
    {
        await StartAsync();
        var grant = await Leases.LeaseGrantAsync(new LeaseGrantRequest { ID = 0x1234, TTL = 60 }, cancellationToken: Ct);
        Assert.Equal(0x1234, grant.ID);
        await PutAsync("k2", grant.ID);
        await PutAsync("k1", grant.ID);
        _time.Advance(TimeSpan.FromSeconds(15.7));

        var withKeys = await Leases.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = grant.ID, Keys = true }, cancellationToken: Ct);
        Assert.Equal((44L, 60L), (withKeys.TTL, withKeys.GrantedTTL));
        Assert.Equal(["k1", "k2"], withKeys.Keys.Select(S));
        var withoutKeys = await Leases.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = grant.ID }, cancellationToken: Ct);
        Assert.Empty(withoutKeys.Keys);

        var unknown = await Leases.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = 99, Keys = true }, cancellationToken: Ct);
        Assert.Equal((99L, -1L, 0L), (unknown.ID, unknown.TTL, unknown.GrantedTTL));
    }

    [Fact]
    public async Task Grant_and_revoke_errors_reach_the_client_with_etcds_status_and_message()
    {
        await StartAsync();
        await Leases.LeaseGrantAsync(new LeaseGrantRequest { ID = 7, TTL = 60 }, cancellationToken: Ct);
        var exists = await Assert.ThrowsAsync<RpcException>(async () => await Leases.LeaseGrantAsync(new LeaseGrantRequest { ID = 7, TTL = 60 }, cancellationToken: Ct));
        Assert.Equal((StatusCode.FailedPrecondition, "etcdserver: lease already exists"), (exists.StatusCode, exists.Status.Detail));
        var tooLarge = await Assert.ThrowsAsync<RpcException>(async () => await Leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 9_000_000_001 }, cancellationToken: Ct));
        Assert.Equal((StatusCode.OutOfRange, "etcdserver: too large lease TTL"), (tooLarge.StatusCode, tooLarge.Status.Detail));
        var notFound = await Assert.ThrowsAsync<RpcException>(async () => await Leases.LeaseRevokeAsync(new LeaseRevokeRequest { ID = 8 }, cancellationToken: Ct));
        Assert.Equal((StatusCode.NotFound, "etcdserver: requested lease not found"), (notFound.StatusCode, notFound.Status.Detail));
        var unknownLeasePut = await Assert.ThrowsAsync<RpcException>(async () => await PutAsync("k", 8));
        Assert.Equal((StatusCode.NotFound, "etcdserver: requested lease not found"), (unknownLeasePut.StatusCode, unknownLeasePut.Status.Detail));
        Assert.Equal(2, (await Leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 1 }, cancellationToken: Ct)).TTL);
    }

    [Fact]
    public async Task Revoke_deletes_the_keys_in_one_revision_and_answers_that_revision()
    {
        await StartAsync();
        await Leases.LeaseGrantAsync(new LeaseGrantRequest { ID = 7, TTL = 60 }, cancellationToken: Ct);
        await PutAsync("r/a", 7);
        var before = await PutAsync("r/b", 7);
        var revoke = await Leases.LeaseRevokeAsync(new LeaseRevokeRequest { ID = 7 }, cancellationToken: Ct);
        Assert.Equal(before + 1, revoke.Header.Revision);
        Assert.Equal(0, (await GetPrefixAsync("r/")).Count);
        Assert.Equal(2, (await GetPrefixAsync("r/", before)).Count);
    }

    [Theory]
    [InlineData(100_000)] // leases come back from log replay
    [InlineData(3)]       // leases come back from a snapshot image
    public async Task A_restart_gives_every_lease_its_full_ttl_again_and_keeps_its_keys(long snapshotCount)
    {
        await StartAsync(snapshotCount);
        await Leases.LeaseGrantAsync(new LeaseGrantRequest { ID = 7, TTL = 10 }, cancellationToken: Ct);
        await PutAsync("a", 7);
        await PutAsync("b", 7);
        await PutAsync("c");
        _time.Advance(TimeSpan.FromSeconds(8));
        Assert.Equal(2, await TtlAsync(7));
        await StopAsync();

        await StartAsync(snapshotCount);
        var ttl = await Leases.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = 7, Keys = true }, cancellationToken: Ct);
        Assert.Equal((10L, 10L), (ttl.TTL, ttl.GrantedTTL));
        Assert.Equal(["a", "b"], ttl.Keys.Select(S));
        _time.Advance(TimeSpan.FromSeconds(9.5));
        await PutAsync("barrier");
        Assert.Equal(0, await TtlAsync(7)); // still there, with less than a whole second left
        _time.Advance(TimeSpan.FromSeconds(1));
        await PutAsync("barrier");
        Assert.Equal(-1, await TtlAsync(7));
        Assert.Equal(0, (await GetPrefixAsync("a")).Count);
    }
}
