using System.Net;
using System.Net.Sockets;
using Coordination.Server.Hosting;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Coordination.Server.Tests.Node;

/// <summary>A whole member in process: the write path from gRPC to the log and back after a restart.</summary>
public sealed class ServerHostTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "coord-host-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDir)) Directory.Delete(_dataDir, recursive: true);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private ServerOptions Options(int port, long snapshotCount = 100_000) => CommandLine.Parse(
        ["--data-dir", _dataDir, "--listen-client-urls", $"http://127.0.0.1:{port}", "--snapshot-count", snapshotCount.ToString(System.Globalization.CultureInfo.InvariantCulture), "--log-level", "warn"],
        new Dictionary<string, string>());

    [Fact]
    public async Task Acknowledged_writes_survive_a_restart_through_log_replay_and_snapshots()
    {
        var port = FreePort();
        var ct = TestContext.Current.CancellationToken;
        await using (var server = await ServerHost.StartAsync(Options(port, snapshotCount: 25), TimeProvider.System, ct))
        {
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
            var kv = new KV.KVClient(channel);
            for (var i = 0; i < 60; i++)
                await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"k{i:D3}"), Value = ByteString.CopyFromUtf8($"v{i}") }, cancellationToken: ct);
            await kv.DeleteRangeAsync(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("k000") }, cancellationToken: ct);
        }
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_dataDir, "member", "snap"), "*.snap"));

        await using (var server = await ServerHost.StartAsync(Options(port, snapshotCount: 25), TimeProvider.System, ct))
        {
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
            var kv = new KV.KVClient(channel);
            var all = await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k"), RangeEnd = ByteString.CopyFromUtf8("l") }, cancellationToken: ct);
            Assert.Equal(59, all.Count);
            Assert.Equal(62, all.Header.Revision);
            Assert.Equal("k001", all.Kvs[0].Key.ToStringUtf8());
            var put = await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("after"), Value = ByteString.CopyFromUtf8("restart") }, cancellationToken: ct);
            Assert.Equal(63, put.Header.Revision);
            Assert.True(put.Header.RaftTerm >= 2, "a restarted single member leads a new term");
        }
    }

    [Fact]
    public async Task Errors_reach_the_client_with_etcds_status_and_message()
    {
        var port = FreePort();
        var ct = TestContext.Current.CancellationToken;
        await using var server = await ServerHost.StartAsync(Options(port), TimeProvider.System, ct);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        var kv = new KV.KVClient(channel);

        var empty = await Assert.ThrowsAsync<RpcException>(async () => await kv.PutAsync(new PutRequest(), cancellationToken: ct));
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: key is not provided"), (empty.StatusCode, empty.Status.Detail));

        var future = await Assert.ThrowsAsync<RpcException>(async () => await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("a"), Revision = 99 }, cancellationToken: ct));
        Assert.Equal((StatusCode.OutOfRange, "etcdserver: mvcc: required revision is a future revision"), (future.StatusCode, future.Status.Detail));

        var lease = await Assert.ThrowsAsync<RpcException>(async () => await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("a"), Lease = 42 }, cancellationToken: ct));
        Assert.Equal((StatusCode.NotFound, "etcdserver: requested lease not found"), (lease.StatusCode, lease.Status.Detail));

        var big = await Assert.ThrowsAsync<RpcException>(async () => await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("a"), Value = ByteString.CopyFrom(new byte[1_700_000]) }, cancellationToken: ct));
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: request is too large"), (big.StatusCode, big.Status.Detail));

        var ok = await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("a"), Value = ByteString.CopyFromUtf8("still serving") }, cancellationToken: ct);
        Assert.Equal(2, ok.Header.Revision);
    }

    [Fact]
    public async Task Over_quota_puts_raise_nospace_and_are_refused_until_disarmed()
    {
        var port = FreePort();
        var ct = TestContext.Current.CancellationToken;
        var options = Options(port) with { QuotaBackendBytes = 16 * 1024 };
        await using var server = await ServerHost.StartAsync(options, TimeProvider.System, ct);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        var kv = new KV.KVClient(channel);
        var maintenance = new Maintenance.MaintenanceClient(channel);

        RpcException? refused = null;
        for (var i = 0; i < 100 && refused is null; i++)
        {
            try { await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"k{i}"), Value = ByteString.CopyFrom(new byte[1024]) }, cancellationToken: ct); }
            catch (RpcException ex) { refused = ex; }
        }
        Assert.NotNull(refused);
        Assert.Equal((StatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded"), (refused.StatusCode, refused.Status.Detail));
        var alarms = await maintenance.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Get }, cancellationToken: ct);
        Assert.Equal(AlarmType.Nospace, Assert.Single(alarms.Alarms).Alarm);

        // Deletes still work; after freeing space and disarming, puts work again.
        await kv.DeleteRangeAsync(new DeleteRangeRequest { Key = ByteString.CopyFromUtf8("k"), RangeEnd = ByteString.CopyFromUtf8("l") }, cancellationToken: ct);
        var status = await maintenance.StatusAsync(new StatusRequest(), cancellationToken: ct);
        await kv.CompactAsync(new CompactionRequest { Revision = status.Header.Revision }, cancellationToken: ct);
        await maintenance.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Deactivate, Alarm = AlarmType.Nospace }, cancellationToken: ct);
        await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("again"), Value = ByteString.CopyFromUtf8("ok") }, cancellationToken: ct);
    }

    [Fact]
    public async Task Stopping_ends_open_watch_and_keep_alive_streams_instead_of_waiting_for_them()
    {
        var port = FreePort();
        var ct = TestContext.Current.CancellationToken;
        var server = await ServerHost.StartAsync(Options(port), TimeProvider.System, ct);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        using var watch = new Etcdserverpb.Watch.WatchClient(channel).Watch(cancellationToken: ct);
        await watch.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFromUtf8("k") } }, ct);
        Assert.True(await watch.ResponseStream.MoveNext(ct));
        var leases = new Etcdserverpb.Lease.LeaseClient(channel);
        var granted = await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 }, cancellationToken: ct);
        using var keepAlive = leases.LeaseKeepAlive(cancellationToken: ct);
        await keepAlive.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = granted.ID }, ct);
        Assert.True(await keepAlive.ResponseStream.MoveNext(ct));

        // Without ending them, shutdown waits for these streams until the host's 30 s timeout.
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await server.DisposeAsync();
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {stopping.Elapsed.TotalSeconds:F1} s with a watch and a keep-alive stream open");
    }
}
