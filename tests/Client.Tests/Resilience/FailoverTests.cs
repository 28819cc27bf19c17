using Coordination.Client.Kv;
using Coordination.Client.Tests.Fixtures;

namespace Coordination.Client.Tests.Resilience;

/// <summary>Three real etcd 3.4 members; the member the client is using is killed.</summary>
public sealed class FailoverTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Killing_the_member_in_use_keeps_calls_the_watch_and_the_lease_going(bool killLeader)
    {
        await using var cluster = await EtcdCluster.StartAsync(3, Ct);
        string chosen;
        await using (var probe = CoordinationClient.Create(cluster.ClientUrls[0]))
        {
            var leader = (await probe.Maintenance.StatusAsync(cancellationToken: Ct)).Leader;
            var members = await probe.Cluster.ListAsync(Ct);
            chosen = members.First(m => (m.Id == leader) == killLeader).ClientUrls[0];
        }

        await using var root = CoordinationClient.Create(new CoordinationClientOptions
        {
            Endpoints = [chosen, .. cluster.ClientUrls.Where(u => u != chosen)], // pinned: the first one is used
            EndpointSelection = EndpointSelection.Pinned,
            CallTimeout = TimeSpan.FromSeconds(3),
            MaxRetries = 10,
            EndpointCooldown = TimeSpan.FromSeconds(10),
        });
        var client = (ClientRoot)root;
        const string Prefix = "/failover/";

        await using var lease = await client.Lease.GrantAndKeepAliveAsync(3, Ct);
        await client.Kv.PutAsync(Prefix + "leased", "alive", new PutOptions { Lease = lease.LeaseId }, Ct);
        await using var watch = await client.Watch.WatchPrefixAsync(Prefix + "w/", cancellationToken: Ct);

        var revisions = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            revisions.Add((await client.Kv.PutAsync($"{Prefix}w/{i % 3}", $"{i}", cancellationToken: Ct)).Header.Revision);
        }

        var used = client.WatchHub.StreamEndpoint;
        Assert.Equal(chosen, used);
        Assert.Equal(used, client.KeepAliveHub.StreamEndpoint);
        cluster.Kill(cluster.IndexOf(chosen));

        // The first call after the kill finds the dead connection; reads are retried on another member.
        Assert.Equal("alive", await client.Kv.GetStringAsync(Prefix + "leased", Ct));
        for (var i = 10; i < 30; i++)
        {
            revisions.Add((await client.Kv.PutAsync($"{Prefix}w/{i % 3}", $"{i}", cancellationToken: Ct)).Header.Revision);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var events = new List<Watch.WatchEvent>();
        await foreach (var e in watch.EventsAsync(timeout.Token))
        {
            events.Add(e);
            if (events.Count == revisions.Count)
            {
                break;
            }
        }

        Assert.Equal(revisions, events.Select(e => e.Kv.ModRevision));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => $"{i}"), events.Select(e => e.Kv.ValueString));
        Assert.NotEqual(used, client.WatchHub.StreamEndpoint);

        await Task.Delay(TimeSpan.FromSeconds(7), Ct); // more than two TTLs after the kill
        Assert.False(lease.LeaseLost.IsCancellationRequested, "the lease was declared lost");
        Assert.InRange((await client.Lease.TimeToLiveAsync(lease.LeaseId, cancellationToken: Ct)).TtlSeconds, 1, 3);
        Assert.Equal("alive", await client.Kv.GetStringAsync(Prefix + "leased", Ct));
        Assert.NotEqual(used, client.KeepAliveHub.StreamEndpoint);
    }

    [Fact]
    public async Task Leadership_moves_to_the_member_named_and_a_non_leader_refuses_to_move_it()
    {
        await using var cluster = await EtcdCluster.StartAsync(3, Ct);
        await using var client = CoordinationClient.Create(new CoordinationClientOptions { Endpoints = [.. cluster.ClientUrls] });
        var members = await client.Cluster.ListAsync(Ct);
        var leaderId = (await client.Maintenance.StatusAsync(cluster.ClientUrls[0], Ct)).Leader;
        var leaderUrl = members.Single(m => m.Id == leaderId).ClientUrls[0];
        var target = members.First(m => m.Id != leaderId);
        var bystander = members.First(m => m.Id != leaderId && m.Id != target.Id);

        var refused = await Assert.ThrowsAsync<EtcdException>(() => client.Maintenance.MoveLeaderAsync(target.Id, bystander.ClientUrls[0], Ct));
        Assert.Equal("etcdserver: not leader", refused.Message);

        await client.Maintenance.MoveLeaderAsync(target.Id, leaderUrl, Ct);

        Assert.Equal(target.Id, (await client.Maintenance.StatusAsync(target.ClientUrls[0], Ct)).Leader);
    }
}
