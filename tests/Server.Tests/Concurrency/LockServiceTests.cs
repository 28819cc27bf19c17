using System.Net;
using System.Net.Sockets;
using Coordination.Server.Hosting;
using Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Time.Testing;
using V3Lockpb;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Concurrency;

/// <summary>
/// The Lock service of a whole member in process, on a fake clock: a waiter whose lease expires
/// (decided by the member's own expiry schedule) while it waits is never granted the lock.
/// </summary>
public sealed class LockServiceTests : IAsyncDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "coord-lock-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private ServerHost? _server;
    private GrpcChannel? _channel;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask DisposeAsync()
    {
        _channel?.Dispose();
        if (_server is not null) await _server.DisposeAsync();
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
    }

    private async Task StartAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var options = CommandLine.Parse(["--data-dir", _dataDir, "--listen-client-urls", $"http://127.0.0.1:{port}", "--log-level", "warn"], new Dictionary<string, string>());
        _server = await ServerHost.StartAsync(options, _time, Ct);
        _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
    }

    private async Task<long> CountAsync(string prefix) =>
        (await new KV.KVClient(_channel).RangeAsync(new RangeRequest { Key = B(prefix), RangeEnd = B(prefix[..^1] + (char)(prefix[^1] + 1)), CountOnly = true }, cancellationToken: Ct)).Count;

    [Fact]
    public async Task A_waiter_whose_lease_expires_on_the_members_clock_is_refused_when_its_turn_comes()
    {
        await StartAsync();
        var leases = new Etcdserverpb.Lease.LeaseClient(_channel);
        var locks = new V3Lockpb.Lock.LockClient(_channel);
        var holderLease = (await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 3600 }, cancellationToken: Ct)).ID;
        var waiterLease = (await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 5 }, cancellationToken: Ct)).ID;

        var held = await locks.LockAsync(new LockRequest { Name = B("job"), Lease = holderLease }, cancellationToken: Ct);
        Assert.Equal($"job/{holderLease:x}", S(held.Key));
        using var waiting = locks.LockAsync(new LockRequest { Name = B("job"), Lease = waiterLease }, cancellationToken: Ct);
        // The waiter's key is queued once its txn is applied; a count that sees it is ordered after it.
        var queued = System.Diagnostics.Stopwatch.StartNew();
        while (await CountAsync("job/") < 2)
        {
            Assert.True(queued.Elapsed < TimeSpan.FromSeconds(10), "the waiter never queued its key");
            await Task.Yield();
        }

        _time.Advance(TimeSpan.FromSeconds(6)); // the member proposes the revocation of the waiter's lease
        await locks.UnlockAsync(new UnlockRequest { Key = held.Key }, cancellationToken: Ct); // applied after it

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await waiting.ResponseAsync.WaitAsync(TimeSpan.FromSeconds(20), Ct));
        Assert.Equal((StatusCode.Unknown, "mutex: session is expired"), (refused.StatusCode, refused.Status.Detail));
        Assert.Equal(0, await CountAsync("job/"));

        // The lock is free again for a live lease.
        var next = await locks.LockAsync(new LockRequest { Name = B("job"), Lease = holderLease }, cancellationToken: Ct);
        Assert.Equal($"job/{holderLease:x}", S(next.Key));
    }
}
