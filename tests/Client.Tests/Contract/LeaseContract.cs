using Coordination.Client.Kv;
using Coordination.Client.Tests.Fixtures;

namespace Coordination.Client.Tests.Contract;

public abstract class LeaseContract(ContractTarget target) : ContractBase(target, ContractGroup.Lease)
{
    [Fact]
    public async Task Grant_ttl_list_and_revoke_with_its_keys()
    {
        var lease = await Client.Lease.GrantAsync(30, cancellationToken: Ct);
        await Client.Kv.PutAsync(Key("leased"), "v", new PutOptions { Lease = lease.Id }, Ct);

        var ttl = await Client.Lease.TimeToLiveAsync(lease.Id, keys: true, Ct);
        Assert.Equal(30, lease.TtlSeconds);
        Assert.InRange(ttl.TtlSeconds, 1, 30);
        Assert.Equal(30, ttl.GrantedTtlSeconds);
        Assert.Equal(Key("leased"), System.Text.Encoding.UTF8.GetString(Assert.Single(ttl.Keys).Span));
        Assert.Contains(lease.Id, await Client.Lease.ListAsync(Ct));
        Assert.True((await Client.Kv.Txn().If(Compare.Lease(Key("leased")).Equal(lease.Id)).CommitAsync(Ct)).Succeeded);

        await Client.Lease.RevokeAsync(lease.Id, Ct);

        Assert.Null(await Client.Kv.GetAsync(Key("leased"), cancellationToken: Ct));
        Assert.Equal(-1, (await Client.Lease.TimeToLiveAsync(lease.Id, cancellationToken: Ct)).TtlSeconds);
        Assert.DoesNotContain(lease.Id, await Client.Lease.ListAsync(Ct));
    }

    [Fact]
    public async Task A_missing_lease_is_lease_not_found()
    {
        const long Missing = 0x7eadbeef;

        var revoke = await Assert.ThrowsAsync<EtcdLeaseNotFoundException>(() => Client.Lease.RevokeAsync(Missing, Ct));
        await Assert.ThrowsAsync<EtcdLeaseNotFoundException>(() => Client.Lease.KeepAliveOnceAsync(Missing, Ct));
        await Assert.ThrowsAsync<EtcdLeaseNotFoundException>(() => Client.Kv.PutAsync(Key("k"), "v", new PutOptions { Lease = Missing }, Ct));
        Assert.Equal("etcdserver: requested lease not found", revoke.Message);
    }

    [Fact]
    public async Task Keep_alive_holds_many_short_leases_past_their_ttl_on_one_stream()
    {
        var handles = new List<Lease.ILeaseKeepAlive>();
        for (var i = 0; i < 8; i++)
        {
            var h = await Client.Lease.GrantAndKeepAliveAsync(2, Ct);
            handles.Add(h);
            await Client.Kv.PutAsync(Key($"ka/{i}"), "alive", new PutOptions { Lease = h.LeaseId }, Ct);
        }

        await Task.Delay(TimeSpan.FromSeconds(5), Ct); // 2.5 TTLs

        foreach (var handle in handles)
        {
            Assert.False(handle.LeaseLost.IsCancellationRequested);
            Assert.InRange((await Client.Lease.TimeToLiveAsync(handle.LeaseId, cancellationToken: Ct)).TtlSeconds, 1, 2);
            await handle.DisposeAsync();
        }

        Assert.Equal(8, (await Client.Kv.GetPrefixAsync(Key("ka/"), cancellationToken: Ct)).Count);
    }

    [Fact]
    public async Task The_lost_token_fires_when_the_lease_is_revoked_elsewhere()
    {
        await using var handle = await Client.Lease.GrantAndKeepAliveAsync(2, Ct);
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = handle.LeaseLost.Register(() => lost.TrySetResult());

        await using (var other = Target.CreateClient())
        {
            await other.Lease.RevokeAsync(handle.LeaseId, Ct);
        }

        await lost.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.True(handle.LeaseLost.IsCancellationRequested);
    }

    [Fact]
    public async Task Without_keep_alive_a_lease_expires_and_its_keys_go()
    {
        var lease = await Client.Lease.GrantAsync(1, cancellationToken: Ct);
        await Client.Kv.PutAsync(Key("exp"), "v", new PutOptions { Lease = lease.Id }, Ct);
        await using var watch = await Client.Watch.WatchAsync(Key("exp"), cancellationToken: Ct);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        await foreach (var e in watch.EventsAsync(timeout.Token))
        {
            Assert.Equal(Watch.WatchEventType.Delete, e.Type);
            break;
        }

        Assert.Null(await Client.Kv.GetAsync(Key("exp"), cancellationToken: Ct));
    }
}

[Collection(EtcdCollection.Name)]
public sealed class LeaseOnEtcd(EtcdTarget target) : LeaseContract(target);

[Collection(CoordinationCollection.Name)]
public sealed class LeaseOnCoordination(CoordinationTarget target) : LeaseContract(target);

[Collection(ExternalCollection.Name)]
public sealed class LeaseOnExternal(ExternalTarget target) : LeaseContract(target);
