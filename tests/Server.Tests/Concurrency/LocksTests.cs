using Coordination.Server.Concurrency;
using Coordination.Server.Errors;
using Etcdserverpb;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Concurrency;

/// <summary>The lock over an in-memory member: layout, queueing, hand-over, expiry while waiting.</summary>
public sealed class LocksTests
{
    private readonly InMemoryCoordination _member = new();
    private readonly Locks _locks;

    public LocksTests()
    {
        _locks = new Locks(_member, _member);
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<long> GrantAsync() => (await _member.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }, Ct)).ID;

    [Fact]
    public async Task An_uncontended_lock_is_name_slash_lease_hex_and_is_reentrant_for_the_same_lease()
    {
        var lease = await GrantAsync();
        var first = await _locks.LockAsync(B("job"), lease, Ct);
        Assert.Equal($"job/{lease:x}", S(first.Key));
        Assert.Equal(_member.Revision, first.Header.Revision);
        var kv = Assert.Single(_member.Range(new RangeRequest { Key = first.Key }).Kvs);
        Assert.Equal((lease, 0), (kv.Lease, kv.Value.Length));

        var again = await _locks.LockAsync(B("job"), lease, Ct);
        Assert.Equal(first.Key, again.Key);
        Assert.Equal(first.Header.Revision, _member.Revision); // reusing the key wrote nothing

        var unlocked = await _locks.UnlockAsync(first.Key, Ct);
        Assert.Equal(_member.Revision, unlocked.Revision);
        Assert.False(_member.Exists(S(first.Key)));
    }

    [Fact]
    public async Task A_second_contender_waits_until_the_holder_unlocks()
    {
        var a = await _locks.LockAsync(B("m"), await GrantAsync(), Ct);
        var bLease = await GrantAsync();
        var b = _locks.LockAsync(B("m"), bLease, Ct);
        Assert.False(b.IsCompleted);
        Assert.True(_member.Exists($"m/{bLease:x}"), "the waiter queues its key at once");

        await _locks.UnlockAsync(a.Key, Ct);
        var acquired = await b.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal($"m/{bLease:x}", S(acquired.Key));
        Assert.Equal(_member.Revision, acquired.Header.Revision);
    }

    [Fact]
    public async Task Waiters_are_served_in_create_order_and_other_names_do_not_interfere()
    {
        var holder = await _locks.LockAsync(B("q"), await GrantAsync(), Ct);
        var other = await _locks.LockAsync(B("q2"), await GrantAsync(), Ct); // "q2/..." is not under "q/"
        var second = _locks.LockAsync(B("q"), await GrantAsync(), Ct);
        var third = _locks.LockAsync(B("q"), await GrantAsync(), Ct);

        await _locks.UnlockAsync(holder.Key, Ct);
        var secondHeld = await second.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.False(third.IsCompleted);
        await _locks.UnlockAsync(secondHeld.Key, Ct);
        await third.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.True(_member.Exists(S(other.Key)));
    }

    [Fact]
    public async Task A_waiter_whose_lease_expires_while_it_waits_is_never_granted_the_lock()
    {
        var holder = await _locks.LockAsync(B("x"), await GrantAsync(), Ct);
        var waiterLease = await GrantAsync();
        var waiter = _locks.LockAsync(B("x"), waiterLease, Ct);
        Assert.False(waiter.IsCompleted);

        _member.Revoke(waiterLease); // what the expiry schedule proposes when the lease runs out
        Assert.False(_member.Exists($"x/{waiterLease:x}"));
        Assert.False(waiter.IsCompleted, "the waiter still waits for the holder");

        await _locks.UnlockAsync(holder.Key, Ct);
        var error = await Assert.ThrowsAsync<EtcdException>(() => waiter.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(ConcurrencyErrors.SessionExpired, error.Error);
        Assert.Equal("mutex: session is expired", error.Error.Message);
    }

    [Fact]
    public async Task A_waiter_that_gives_up_leaves_the_queue()
    {
        var holder = await _locks.LockAsync(B("c"), await GrantAsync(), Ct);
        var lease = await GrantAsync();
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var waiter = _locks.LockAsync(B("c"), lease, giveUp.Token);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter);
        Assert.False(_member.Exists($"c/{lease:x}"));
        Assert.True(_member.Exists(S(holder.Key)));
    }

    [Fact]
    public async Task Lease_0_locks_under_a_fresh_lease_and_an_unknown_lease_fails()
    {
        var acquired = await _locks.LockAsync(B("z"), 0, Ct);
        var kv = Assert.Single(_member.Range(new RangeRequest { Key = acquired.Key }).Kvs);
        Assert.NotEqual(0, kv.Lease);
        Assert.Equal($"z/{kv.Lease:x}", S(acquired.Key));

        var error = await Assert.ThrowsAsync<EtcdException>(() => _locks.LockAsync(B("z"), 0xdead, Ct));
        Assert.Equal(EtcdErrors.LeaseNotFound, error.Error);
    }
}
