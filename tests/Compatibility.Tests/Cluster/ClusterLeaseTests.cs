using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Coordination.Compatibility.Tests.Cluster;

/// <summary>
/// Leases in a cluster: only the leader decides expiry, so keep-alives sent to a follower are
/// renewed on the leader (and time-to-live asked of a follower is answered from the leader's
/// schedule), and a lease kept alive outlives its TTL; one left alone expires and its
/// key is deleted on every member.
/// </summary>
[Collection(LocalCluster.Collection)]
public sealed class ClusterLeaseTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Keep_alives_through_a_follower_keep_a_lease_that_the_leader_would_expire()
    {
        await using var cluster = await LocalCluster.StartAsync(3, Ct);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(10), Ct);
        var follower = cluster.Members.First(m => m != leader);
        var leases = new Lease.LeaseClient(follower.Channel);

        var kept = await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 2 }, cancellationToken: Ct);
        var dropped = await leases.LeaseGrantAsync(new LeaseGrantRequest { TTL = 2 }, cancellationToken: Ct);
        await follower.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("kept"), Lease = kept.ID }, cancellationToken: Ct);
        await follower.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("dropped"), Lease = dropped.ID }, cancellationToken: Ct);

        using var stream = leases.LeaseKeepAlive(cancellationToken: Ct);
        for (var i = 0; i < 10; i++)
        {
            await stream.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = kept.ID }, Ct);
            Assert.True(await stream.ResponseStream.MoveNext(Ct));
            Assert.Equal(2, stream.ResponseStream.Current.TTL);
            await Task.Delay(500, Ct);
        }
        await stream.RequestStream.CompleteAsync();

        // The follower answers time-to-live from the leader's schedule, which the keep-alives renewed
        // (its own schedule, never renewed, would say the lease expired seconds ago).
        var ttl = await leases.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = kept.ID }, cancellationToken: Ct);
        Assert.InRange(ttl.TTL, 1, 2);
        Assert.Equal(2, ttl.GrantedTTL);

        // Five seconds after the grant: the lease kept alive through the follower is still there,
        // the other one expired on the leader and its key is gone everywhere.
        foreach (var member in cluster.Members)
        {
            var range = await member.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("kept") }, cancellationToken: Ct);
            Assert.Equal(1, range.Count);
            var gone = await member.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("dropped") }, cancellationToken: Ct);
            Assert.Equal(0, gone.Count);
        }
    }
}
