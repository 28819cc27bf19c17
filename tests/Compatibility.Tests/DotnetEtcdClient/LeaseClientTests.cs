extern alias DotnetEtcd;
using System.Diagnostics;
using Coordination.Compatibility.Tests.Fixtures;
using EtcdClient = DotnetEtcd::dotnet_etcd.EtcdClient;
using EtcdPb = DotnetEtcd::Etcdserverpb;

namespace Coordination.Compatibility.Tests.DotnetEtcdClient;

/// <summary>dotnet-etcd (NuGet), an independent client, against our server: leases and keep-alive.</summary>
public sealed class LeaseClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<bool> KeyExistsAsync(EtcdClient client, string key) =>
        (await client.GetAsync(key, cancellationToken: Ct)).Count == 1;

    [Fact]
    public async Task Keep_alive_holds_a_lease_past_its_ttl_and_the_lease_expires_once_it_stops()
    {
        await using var server = await CoordinationProcess.StartNewAsync(Ct);
        using var client = new EtcdClient(server.ClientUrl);

        var grant = await client.LeaseGrantAsync(new EtcdPb.LeaseGrantRequest { TTL = 2 }, cancellationToken: Ct);
        Assert.Equal(2, grant.TTL);
        Assert.True(grant.ID > 0);
        await client.PutAsync(new EtcdPb.PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("held"), Value = Google.Protobuf.ByteString.CopyFromUtf8("v"), Lease = grant.ID }, cancellationToken: Ct);

        using (var keepAlive = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            var renewing = client.LeaseKeepAlive(grant.ID, keepAlive.Token);
            // Three TTLs of real time: without renewals the key would be gone.
            await Task.Delay(TimeSpan.FromSeconds(6), Ct);
            Assert.True(await KeyExistsAsync(client, "held"), "the key was deleted while its lease was kept alive");
            var ttl = await client.LeaseTimeToLiveAsync(new EtcdPb.LeaseTimeToLiveRequest { ID = grant.ID, Keys = true }, cancellationToken: Ct);
            Assert.InRange(ttl.TTL, 0, 2);
            Assert.Equal(2, ttl.GrantedTTL);
            Assert.Equal("held", Assert.Single(ttl.Keys).ToStringUtf8());
            await keepAlive.CancelAsync();
            try { await renewing; } catch (OperationCanceledException) { }
        }

        var clock = Stopwatch.StartNew();
        while (await KeyExistsAsync(client, "held"))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the lease did not expire after keep-alives stopped");
            await Task.Delay(100, Ct);
        }
        Assert.Equal(-1, (await client.LeaseTimeToLiveAsync(new EtcdPb.LeaseTimeToLiveRequest { ID = grant.ID }, cancellationToken: Ct)).TTL);
    }

    [Fact]
    public async Task One_keep_alive_stream_answers_each_lease_and_ttl_0_for_an_unknown_one()
    {
        await using var server = await CoordinationProcess.StartNewAsync(Ct);
        using var client = new EtcdClient(server.ClientUrl);
        var a = await client.LeaseGrantAsync(new EtcdPb.LeaseGrantRequest { TTL = 30 }, cancellationToken: Ct);
        var b = await client.LeaseGrantAsync(new EtcdPb.LeaseGrantRequest { ID = 4242, TTL = 40 }, cancellationToken: Ct);
        Assert.Equal(4242, b.ID);

        var responses = new List<EtcdPb.LeaseKeepAliveResponse>();
        var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        stop.CancelAfter(TimeSpan.FromSeconds(20));
        var requests = new[] { new EtcdPb.LeaseKeepAliveRequest { ID = a.ID }, new EtcdPb.LeaseKeepAliveRequest { ID = b.ID }, new EtcdPb.LeaseKeepAliveRequest { ID = 777 } };
        var streaming = client.LeaseKeepAlive(requests, response =>
        {
            lock (responses)
            {
                responses.Add(response);
                if (responses.Count == requests.Length) all.TrySetResult();
            }
        }, stop.Token, null);
        await all.Task.WaitAsync(stop.Token);
        await stop.CancelAsync();
        try { await streaming; } catch (Exception e) when (e is OperationCanceledException or Grpc.Core.RpcException) { }

        lock (responses)
        {
            Assert.Equal([(a.ID, 30L), (4242L, 40L), (777L, 0L)], responses.Select(r => (r.ID, r.TTL)));
        }
        var leases = await client.LeaseLeasesAsync(new EtcdPb.LeaseLeasesRequest(), cancellationToken: Ct);
        Assert.Equal(new[] { a.ID, 4242L }.Order(), leases.Leases.Select(l => l.ID).Order());
        await client.LeaseRevokeAsync(new EtcdPb.LeaseRevokeRequest { ID = a.ID }, cancellationToken: Ct);
        Assert.Equal([4242L], (await client.LeaseLeasesAsync(new EtcdPb.LeaseLeasesRequest(), cancellationToken: Ct)).Leases.Select(l => l.ID));
    }
}
