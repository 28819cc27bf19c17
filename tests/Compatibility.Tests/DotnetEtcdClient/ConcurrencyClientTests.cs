extern alias DotnetEtcd;
using System.Diagnostics;
using Coordination.Compatibility.Tests.Fixtures;
using Google.Protobuf;
using Grpc.Core;
using EtcdClient = DotnetEtcd::dotnet_etcd.EtcdClient;
using EtcdPb = DotnetEtcd::Etcdserverpb;
using ElectionPb = DotnetEtcd::V3Electionpb;

namespace Coordination.Compatibility.Tests.DotnetEtcdClient;

/// <summary>
/// dotnet-etcd (NuGet) against the server-side Lock and Election services, on real etcd 3.4 and on
/// ours (each case runs on both, so the expected answers are etcd's own).
/// </summary>
public sealed class ConcurrencyClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> Targets => new("etcd", "coordination");

    private static async Task<ServerProcess> StartAsync(string target) =>
        target == "etcd" ? await EtcdProcess.StartNewAsync(Ct) : await CoordinationProcess.StartNewAsync(Ct);

    private static async Task<long> GrantAsync(EtcdClient client, long ttl = 30) =>
        (await client.LeaseGrantAsync(new EtcdPb.LeaseGrantRequest { TTL = ttl }, cancellationToken: Ct)).ID;

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"timed out waiting until {what}");
            await Task.Delay(50, Ct);
        }
    }

    private static async Task<long> CountAsync(EtcdClient client, string prefix) =>
        (await client.GetRangeAsync(prefix, cancellationToken: Ct)).Count;

    [Theory, MemberData(nameof(Targets))]
    public async Task Lock_queues_a_second_contender_until_unlock(string target)
    {
        await using var server = await StartAsync(target);
        using var client = new EtcdClient(server.ClientUrl);
        var a = await GrantAsync(client);
        var b = await GrantAsync(client);

        var first = await client.LockAsync(new DotnetEtcd::V3Lockpb.LockRequest { Name = ByteString.CopyFromUtf8("job"), Lease = a }, cancellationToken: Ct);
        Assert.Equal($"job/{a:x}", first.Key.ToStringUtf8());
        Assert.True(first.Header.Revision > 1);

        var second = client.LockAsync(new DotnetEtcd::V3Lockpb.LockRequest { Name = ByteString.CopyFromUtf8("job"), Lease = b }, cancellationToken: Ct);
        await WaitUntilAsync(async () => await CountAsync(client, "job/") == 2, "the second contender queued");
        Assert.False(second.IsCompleted, "the second contender got the lock while the first held it");

        var unlocked = await client.UnlockAsync(new DotnetEtcd::V3Lockpb.UnlockRequest { Key = first.Key }, cancellationToken: Ct);
        Assert.True(unlocked.Header.Revision > first.Header.Revision);
        var got = await second.WaitAsync(TimeSpan.FromSeconds(15), Ct);
        Assert.Equal($"job/{b:x}", got.Key.ToStringUtf8());
        await client.UnlockAsync(new DotnetEtcd::V3Lockpb.UnlockRequest { Key = got.Key }, cancellationToken: Ct);
        Assert.Equal(0, await CountAsync(client, "job/"));

        // An unknown lease: etcd answers as a client of itself, so the KV error arrives as Unknown.
        var error = await Assert.ThrowsAsync<RpcException>(() => client.LockAsync(new DotnetEtcd::V3Lockpb.LockRequest { Name = ByteString.CopyFromUtf8("job"), Lease = 0x1234 }, cancellationToken: Ct));
        Assert.Equal((StatusCode.Unknown, "etcdserver: requested lease not found"), (error.StatusCode, error.Status.Detail));
    }

    [Fact]
    public async Task Lock_is_never_granted_to_a_waiter_whose_lease_expired_while_it_waited()
    {
        // etcd 3.4.23's server-side mutex does not re-check (later etcd does): it would answer with
        // the expired waiter's key. This server follows the later, safe behaviour.
        await using var server = await CoordinationProcess.StartNewAsync(Ct);
        using var client = new EtcdClient(server.ClientUrl);
        var holder = await client.LockAsync(new DotnetEtcd::V3Lockpb.LockRequest { Name = ByteString.CopyFromUtf8("x"), Lease = await GrantAsync(client) }, cancellationToken: Ct);
        var shortLease = await GrantAsync(client, ttl: 2); // nobody keeps it alive
        var waiter = client.LockAsync(new DotnetEtcd::V3Lockpb.LockRequest { Name = ByteString.CopyFromUtf8("x"), Lease = shortLease }, cancellationToken: Ct);
        await WaitUntilAsync(async () => await CountAsync(client, "x/") == 2, "the waiter queued");
        await WaitUntilAsync(async () => await CountAsync(client, "x/") == 1, "the waiter's lease expired");
        Assert.False(waiter.IsCompleted);

        await client.UnlockAsync(new DotnetEtcd::V3Lockpb.UnlockRequest { Key = holder.Key }, cancellationToken: Ct);
        var error = await Assert.ThrowsAsync<RpcException>(() => waiter.WaitAsync(TimeSpan.FromSeconds(15), Ct));
        Assert.Equal((StatusCode.Unknown, "mutex: session is expired"), (error.StatusCode, error.Status.Detail));
    }

    [Theory, MemberData(nameof(Targets))]
    public async Task Campaign_proclaim_observe_and_resign_hand_leadership_over(string target)
    {
        await using var server = await StartAsync(target);
        using var client = new EtcdClient(server.ClientUrl);
        var name = ByteString.CopyFromUtf8("el");

        var noLeader = await Assert.ThrowsAsync<RpcException>(() => client.LeaderAsync(new ElectionPb.LeaderRequest { Name = name }, cancellationToken: Ct));
        Assert.Equal((StatusCode.Unknown, "election: no leader"), (noLeader.StatusCode, noLeader.Status.Detail));

        using var stopObserving = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var observed = new List<string>();
        var observedChanged = new SemaphoreSlim(0);
        var observing = Task.Run(async () =>
        {
            try
            {
                await foreach (var leader in client.ObserveAsync(new ElectionPb.LeaderRequest { Name = name }, cancellationToken: stopObserving.Token))
                {
                    lock (observed) observed.Add(leader.Kv.Value.ToStringUtf8());
                    observedChanged.Release();
                }
            }
            catch (Exception e) when (e is OperationCanceledException || (e is RpcException r && r.StatusCode == StatusCode.Cancelled))
            {
            }
        }, Ct);
        async Task SeenAsync(params string[] values)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                lock (observed) if (observed.SequenceEqual(values)) return;
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"observed [{string.Join(", ", observed)}], expected [{string.Join(", ", values)}]");
                await observedChanged.WaitAsync(TimeSpan.FromMilliseconds(200), Ct);
            }
        }

        var leaseA = await GrantAsync(client);
        var a = await client.CampaignAsync(new ElectionPb.CampaignRequest { Name = name, Lease = leaseA, Value = ByteString.CopyFromUtf8("alpha") }, cancellationToken: Ct);
        Assert.Equal(("el", $"el/{leaseA:x}", leaseA), (a.Leader.Name.ToStringUtf8(), a.Leader.Key.ToStringUtf8(), a.Leader.Lease));
        Assert.Equal(a.Header.Revision, a.Leader.Rev);
        await SeenAsync("alpha");

        await client.ProclaimAsync(new ElectionPb.ProclaimRequest { Leader = a.Leader, Value = ByteString.CopyFromUtf8("alpha-2") }, cancellationToken: Ct);
        await SeenAsync("alpha", "alpha-2");
        var current = await client.LeaderAsync(new ElectionPb.LeaderRequest { Name = name }, cancellationToken: Ct);
        Assert.Equal(("alpha-2", a.Leader.Rev), (current.Kv.Value.ToStringUtf8(), current.Kv.CreateRevision));

        var leaseB = await GrantAsync(client);
        var b = client.CampaignAsync(new ElectionPb.CampaignRequest { Name = name, Lease = leaseB, Value = ByteString.CopyFromUtf8("beta") }, cancellationToken: Ct);
        await WaitUntilAsync(async () => await CountAsync(client, "el/") == 2, "the second candidate queued");
        Assert.False(b.IsCompleted);

        await client.ResignAsync(new ElectionPb.ResignRequest { Leader = a.Leader }, cancellationToken: Ct);
        var won = await b.WaitAsync(TimeSpan.FromSeconds(15), Ct);
        Assert.Equal($"el/{leaseB:x}", won.Leader.Key.ToStringUtf8());
        await SeenAsync("alpha", "alpha-2", "beta");

        var notLeader = await Assert.ThrowsAsync<RpcException>(() => client.ProclaimAsync(new ElectionPb.ProclaimRequest { Leader = a.Leader, Value = ByteString.CopyFromUtf8("late") }, cancellationToken: Ct));
        Assert.Equal((StatusCode.Unknown, "election: not leader"), (notLeader.StatusCode, notLeader.Status.Detail));
        var missing = await Assert.ThrowsAsync<RpcException>(() => client.ResignAsync(new ElectionPb.ResignRequest(), cancellationToken: Ct));
        Assert.Equal((StatusCode.Unknown, "\"leader\" field must be provided"), (missing.StatusCode, missing.Status.Detail));

        await stopObserving.CancelAsync();
        await observing.WaitAsync(TimeSpan.FromSeconds(15), Ct);
    }
}
