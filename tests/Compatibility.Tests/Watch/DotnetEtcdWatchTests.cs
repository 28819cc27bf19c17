extern alias DotnetEtcd;
using Coordination.Compatibility.Tests.Fixtures;
using DotnetEtcd::dotnet_etcd;
using Google.Protobuf;
using EtcdWatchRequest = DotnetEtcd::Etcdserverpb.WatchRequest;
using EtcdWatchCreateRequest = DotnetEtcd::Etcdserverpb.WatchCreateRequest;
using EtcdWatchResponse = DotnetEtcd::Etcdserverpb.WatchResponse;

namespace Coordination.Compatibility.Tests.Watch;

/// <summary>The dotnet-etcd client (NuGet) watching our server, with real etcd as the reference for the same steps.</summary>
public sealed class DotnetEtcdWatchTests
{
    [Theory]
    [InlineData("coordination")]
    [InlineData("etcd")]
    public async Task A_prefix_watch_with_prev_kv_sees_every_change_in_order(string target)
    {
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        await using ServerProcess server = target == "etcd"
            ? await EtcdProcess.StartNewAsync(cancellationToken)
            : await CoordinationProcess.StartNewAsync(cancellationToken);
        var client = new EtcdClient(server.ClientUrl, configureChannelOptions: null);
        await client.PutAsync("dn/a", "0", cancellationToken: cancellationToken);

        var received = new List<EtcdWatchResponse>();
        var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var request = new EtcdWatchRequest
        {
            CreateRequest = new EtcdWatchCreateRequest
            {
                Key = ByteString.CopyFromUtf8("dn/"),
                RangeEnd = ByteString.CopyFromUtf8("dn0"),
                StartRevision = 2,
                PrevKv = true,
            },
        };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(TimeSpan.FromSeconds(20));
        Task watching = client.WatchAsync(request, (EtcdWatchResponse response) =>
        {
            lock (received)
            {
                received.Add(response);
                if (received.Sum(r => r.Events.Count) >= 5) enough.TrySetResult();
            }
        }, cancellationToken: stop.Token);

        // The history event (dn/a@2) proves the watch is established before the live writes.
        await WaitForEventsAsync(received, 1, stop.Token);
        await client.PutAsync("dn/a", "1", cancellationToken: cancellationToken);
        await client.PutAsync("other", "x", cancellationToken: cancellationToken);
        await client.PutAsync("dn/b", "2", cancellationToken: cancellationToken);
        await client.DeleteRangeAsync("dn/", cancellationToken: cancellationToken);
        await enough.Task.WaitAsync(stop.Token);
        await stop.CancelAsync();
        try { await watching; } catch (Exception e) when (e is OperationCanceledException or Grpc.Core.RpcException) { }

        List<string> events;
        lock (received)
        {
            events = received.SelectMany(r => r.Events).Select(e =>
                $"{e.Type} {e.Kv.Key.ToStringUtf8()}={e.Kv.Value.ToStringUtf8()} mod={e.Kv.ModRevision} ver={e.Kv.Version}"
                + (e.PrevKv is null ? "" : $" prev={e.PrevKv.Value.ToStringUtf8()}@{e.PrevKv.ModRevision}")).ToList();
            Assert.All(received.Where(r => r.Events.Count > 0), r => Assert.True(r.Header.Revision >= r.Events[^1].Kv.ModRevision));
        }

        Assert.Equal(
        [
            "Put dn/a=0 mod=2 ver=1",
            "Put dn/a=1 mod=3 ver=2 prev=0@2",
            "Put dn/b=2 mod=5 ver=1",
            "Delete dn/a= mod=6 ver=0 prev=1@3",
            "Delete dn/b= mod=6 ver=0 prev=2@5",
        ], events);
    }

    private static async Task WaitForEventsAsync(List<EtcdWatchResponse> received, int count, CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (received)
            {
                if (received.Sum(r => r.Events.Count) >= count) return;
            }

            await Task.Delay(20, cancellationToken);
        }
    }
}
