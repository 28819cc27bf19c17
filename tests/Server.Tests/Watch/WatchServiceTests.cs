using System.Net;
using System.Net.Sockets;
using Coordination.Server.Hosting;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Coordination.Server.Tests.Watch;

/// <summary>The Watch gRPC service on a whole member in process.</summary>
public sealed class WatchServiceTests : IDisposable
{
    private readonly string _dataDir = Path.Combine(Path.GetTempPath(), "coord-watch-" + Guid.NewGuid().ToString("N"));

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

    private Task<ServerHost> StartAsync(int port, params string[] extra) => ServerHost.StartAsync(
        CommandLine.Parse(["--data-dir", _dataDir, "--listen-client-urls", $"http://127.0.0.1:{port}", "--log-level", "warn", .. extra], new Dictionary<string, string>()),
        TimeProvider.System, TestContext.Current.CancellationToken);

    [Fact]
    public async Task Thousands_of_whole_keyspace_watchers_on_one_stream_all_get_events_and_are_released_with_the_stream()
    {
        var ct = TestContext.Current.CancellationToken;
        int port = FreePort();
        await using ServerHost server = await StartAsync(port);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        var watch = new Etcdserverpb.Watch.WatchClient(channel);
        const int watchers = 3000;
        using (var call = watch.Watch(cancellationToken: ct))
        {
            for (int i = 0; i < watchers; i++)
            {
                await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0) } }, ct);
                await call.RequestStream.WriteAsync(new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = 1_000_000 + i } }, ct);
            }

            var ids = new HashSet<long>();
            while (ids.Count < watchers)
            {
                Assert.True(await call.ResponseStream.MoveNext(ct));
                Assert.True(call.ResponseStream.Current.Created, "only created responses: unknown cancels get none");
                ids.Add(call.ResponseStream.Current.WatchId);
            }

            Assert.Equal(Enumerable.Range(0, watchers).Select(i => (long)i), ids.Order());
            await new KV.KVClient(channel).PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") }, cancellationToken: ct);
            var notified = new HashSet<long>();
            while (notified.Count < watchers)
            {
                Assert.True(await call.ResponseStream.MoveNext(ct));
                WatchResponse response = call.ResponseStream.Current;
                Assert.Equal("k", Assert.Single(response.Events).Kv.Key.ToStringUtf8());
                Assert.True(notified.Add(response.WatchId), $"watch {response.WatchId} notified twice");
                Assert.Equal(server.Node.Identity.MemberId, response.Header.MemberId);
                Assert.Equal(server.Node.Identity.ClusterId, response.Header.ClusterId);
                Assert.True(response.Header.RaftTerm > 0);
            }

            Assert.Equal(watchers, server.Watches.SyncedCount);
            await call.RequestStream.CompleteAsync();
            Assert.False(await call.ResponseStream.MoveNext(ct), "the server ends the stream when the client half-closes, as etcd");
        }

        await WatchHubTests.WaitUntilAsync(() => server.Watches.SyncedCount + server.Watches.UnsyncedCount == 0);
    }

    [Fact]
    public async Task A_client_that_stops_reading_never_blocks_writes_and_later_gets_every_revision_once_in_order()
    {
        var ct = TestContext.Current.CancellationToken;
        int port = FreePort();
        await using ServerHost server = await StartAsync(port);
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        var kv = new KV.KVClient(channel);
        using var slow = new Etcdserverpb.Watch.WatchClient(channel).Watch(cancellationToken: ct);
        await slow.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFrom(0), RangeEnd = ByteString.CopyFrom(0), PrevKv = true } }, ct);
        Assert.True(await slow.ResponseStream.MoveNext(ct));
        Assert.True(slow.ResponseStream.Current.Created);

        // 3,000 puts of 2 kB (about 6 MB of events) while the client reads nothing: HTTP/2 flow control
        // stops the send loop, the stream's buffer fills and its watcher falls back to catching up.
        var value = ByteString.CopyFrom(new byte[2000]);
        const int puts = 3000;
        bool fellBehind = false;
        for (int i = 0; i < puts; i++)
        {
            await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"k{i % 50}"), Value = value }, cancellationToken: ct);
            fellBehind |= server.Watches.UnsyncedCount > 0;
        }

        Assert.True(fellBehind, "the non-reading client never fell behind: the test did not exercise back-pressure");
        long expected = 2;
        while (expected < 2 + puts)
        {
            Assert.True(await slow.ResponseStream.MoveNext(ct));
            foreach (var e in slow.ResponseStream.Current.Events)
            {
                Assert.Equal(expected, e.Kv.ModRevision);
                if (expected >= 2 + 50) Assert.Equal(expected - 50, e.PrevKv.ModRevision);
                expected++;
            }
        }

        await WatchHubTests.WaitUntilAsync(() => server.Watches.SyncedCount == 1);
    }

    [Fact]
    public async Task Progress_notifications_follow_the_configured_interval()
    {
        var ct = TestContext.Current.CancellationToken;
        int port = FreePort();
        await using ServerHost server = await StartAsync(port, "--experimental-watch-progress-notify-interval", "200ms");
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}");
        using var call = new Etcdserverpb.Watch.WatchClient(channel).Watch(cancellationToken: ct);
        await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = ByteString.CopyFromUtf8("a"), ProgressNotify = true, WatchId = 7 } }, ct);
        Assert.True(await call.ResponseStream.MoveNext(ct));
        Assert.True(call.ResponseStream.Current.Created);
        var started = DateTime.UtcNow;
        for (int i = 0; i < 2; i++)
        {
            Assert.True(await call.ResponseStream.MoveNext(ct));
            WatchResponse tick = call.ResponseStream.Current;
            Assert.Equal((7L, false, false, 0), (tick.WatchId, tick.Created, tick.Canceled, tick.Events.Count));
            Assert.Equal(server.Node.CurrentRevision, tick.Header.Revision);
        }

        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(10));
    }
}
