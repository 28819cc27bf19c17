using System.Globalization;
using Coordination.Client.Kv;
using Coordination.Concurrency.Tests.Fixtures;

namespace Coordination.Concurrency.Tests.Contract;

public abstract class MutexContract(ConcurrencyTarget target) : TargetTestBase(target)
{
    private static readonly TimeSpan StillWaiting = TimeSpan.FromMilliseconds(600);
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_lock_key_is_the_name_slash_the_lease_in_hex_and_the_fencing_token_its_create_revision()
    {
        await using var session = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        await using var handle = await Recipes.CreateMutex(session, Name).LockAsync(Ct);

        var stored = await Client.Kv.GetAsync(handle.Key, cancellationToken: Ct);
        Assert.Equal($"{Name}/{session.LeaseId.ToString("x", CultureInfo.InvariantCulture)}", handle.Key);
        Assert.NotNull(stored);
        Assert.Equal(session.LeaseId, stored.Lease);
        Assert.Equal(stored.CreateRevision, handle.FencingToken);
        Assert.True(await handle.IsOwnerAsync(Ct));
    }

    [Fact]
    public async Task A_second_contender_waits_until_the_first_releases_and_gets_a_greater_fencing_token()
    {
        await using var s1 = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        await using var s2 = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        var first = await Recipes.CreateMutex(s1, Name).LockAsync(Ct);

        var second = Recipes.CreateMutex(s2, Name).LockAsync(Ct);
        await Task.WhenAny(second, Task.Delay(StillWaiting, Ct));
        Assert.False(second.IsCompleted);

        await first.ReleaseAsync(Ct);
        await using var held = await second.WaitAsync(Soon, Ct);
        Assert.True(held.FencingToken > first.FencingToken);
        Assert.False(await first.IsOwnerAsync(Ct));
    }

    [Fact]
    public async Task TryLock_gives_up_after_its_timeout_and_removes_its_key()
    {
        await using var s1 = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        await using var s2 = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        await using var held = await Recipes.CreateMutex(s1, Name).LockAsync(Ct);
        var mutex = Recipes.CreateMutex(s2, Name);

        Assert.Null(await mutex.TryLockAsync(TimeSpan.Zero, Ct));
        Assert.Null(await mutex.TryLockAsync(TimeSpan.FromMilliseconds(300), Ct));

        Assert.Equal(1, (await Client.Kv.GetPrefixAsync(Name + "/", cancellationToken: Ct)).Count);
        await held.ReleaseAsync(Ct);
        await using var mine = await mutex.TryLockAsync(TimeSpan.Zero, Ct);
        Assert.NotNull(mine);
    }

    [Fact]
    public async Task TryLock_measures_its_timeout_on_the_injected_clock()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var recipes = CoordinationConcurrency.Create(Client, clock);
        await using var s1 = await recipes.CreateSessionAsync(cancellationToken: Ct);
        await using var s2 = await recipes.CreateSessionAsync(cancellationToken: Ct);
        await using var held = await recipes.CreateMutex(s1, Name).LockAsync(Ct);

        var attempt = recipes.CreateMutex(s2, Name).TryLockAsync(TimeSpan.FromHours(1), Ct);
        await WaitForKeysAsync(2);
        await Task.WhenAny(attempt, Task.Delay(StillWaiting, Ct));
        Assert.False(attempt.IsCompleted);

        clock.Advance(TimeSpan.FromHours(1));

        Assert.Null(await attempt.WaitAsync(Soon, Ct));
        Assert.Equal(1, (await Client.Kv.GetPrefixAsync(Name + "/", cancellationToken: Ct)).Count);
    }

    [Fact]
    public async Task Cancelling_a_wait_removes_our_key()
    {
        await using var s1 = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        await using var s2 = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        await using var held = await Recipes.CreateMutex(s1, Name).LockAsync(Ct);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(400));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Recipes.CreateMutex(s2, Name).LockAsync(cancel.Token));

        var keys = await Client.Kv.GetPrefixAsync(Name + "/", cancellationToken: Ct);
        Assert.Equal(held.Key, Assert.Single(keys.Kvs).KeyString);
    }

    [Fact]
    public async Task A_session_lost_while_waiting_is_session_expired_never_a_grant()
    {
        await using var s1 = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        await using var s2 = await Recipes.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(3) }, Ct);
        await using var held = await Recipes.CreateMutex(s1, Name).LockAsync(Ct);
        var waiting = Recipes.CreateMutex(s2, Name).LockAsync(Ct);
        await Task.WhenAny(waiting, Task.Delay(StillWaiting, Ct));

        await NewClient().Lease.RevokeAsync(s2.LeaseId, Ct);

        await Assert.ThrowsAsync<SessionExpiredException>(() => waiting.WaitAsync(Soon, Ct));
        Assert.True(await held.IsOwnerAsync(Ct));
    }

    [Fact]
    public async Task A_waiter_whose_lease_went_unnoticed_is_refused_by_the_recheck_after_the_wait()
    {
        // With a 60 s TTL the waiter's keep-alive does not learn of the revocation for ~20 s: only the
        // re-check of our key after the wait stands between it and a grant on a dead session.
        var (waiting, _) = await RevokeWaiterThenReleaseAsync(session => Recipes.CreateMutex(session, Name));

        await Assert.ThrowsAsync<SessionExpiredException>(() => waiting.WaitAsync(Soon, Ct));
    }

    [Fact]
    public async Task A_mutex_without_the_recheck_grants_on_a_dead_session()
    {
        // Negative control of the test above: the broken mutex hands out a lock whose key is gone.
        var (waiting, _) = await RevokeWaiterThenReleaseAsync(session => new Locking.CoordinationMutex(session, Name, TimeProvider.System, confirmOwnershipAfterWait: false));

        await using var granted = await waiting.WaitAsync(Soon, Ct);
        Assert.False(await granted.IsOwnerAsync(Ct));
    }

    private async Task<(Task<IMutexHandle> Waiting, ICoordinationSession Session)> RevokeWaiterThenReleaseAsync(Func<ICoordinationSession, ICoordinationMutex> mutexFor)
    {
        var holder = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        var waiter = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        var held = await Recipes.CreateMutex(holder, Name).LockAsync(Ct);
        var waiting = mutexFor(waiter).LockAsync(Ct);
        await WaitForKeysAsync(2);

        await NewClient().Lease.RevokeAsync(waiter.LeaseId, Ct);
        await held.ReleaseAsync(Ct);
        await holder.DisposeAsync();
        return (waiting, waiter);
    }

    [Fact]
    public async Task A_waiter_whose_predecessor_goes_keeps_waiting_for_the_older_holder()
    {
        await using var a = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        await using var b = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        await using var c = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        var held = await Recipes.CreateMutex(a, Name).LockAsync(Ct);
        var bWaits = Recipes.CreateMutex(b, Name).LockAsync(Ct);
        await WaitForKeysAsync(2);
        var cWaits = Recipes.CreateMutex(c, Name).LockAsync(Ct);
        await WaitForKeysAsync(3);

        await b.CloseAsync(Ct); // c's predecessor goes; a still holds
        await Assert.ThrowsAsync<SessionExpiredException>(() => bWaits.WaitAsync(Soon, Ct));
        await Task.WhenAny(cWaits, Task.Delay(StillWaiting, Ct));
        Assert.False(cWaits.IsCompleted);

        await held.ReleaseAsync(Ct);
        await using var cHolds = await cWaits.WaitAsync(Soon, Ct);
        Assert.True(cHolds.FencingToken > held.FencingToken);
    }

    [Fact]
    public async Task CommitIfHeld_commits_while_held_and_throws_once_the_session_is_lost()
    {
        await using var session = await Recipes.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(3) }, Ct);
        await using var handle = await Recipes.CreateMutex(session, Name).LockAsync(Ct);

        var committed = await handle.CommitIfHeldAsync(t => t.Then(TxnOp.Put(Name + "-data", "1")), Ct);
        var refused = await handle.CommitIfHeldAsync(t => t.If(Compare.Value(Name + "-data").Equal("other")).Then(TxnOp.Put(Name + "-data", "2")), Ct);
        Assert.True(committed.Succeeded);
        Assert.False(refused.Succeeded); // our compare failed; the lock is still held

        await NewClient().Lease.RevokeAsync(session.LeaseId, Ct);

        await Assert.ThrowsAsync<LockNotHeldException>(() => handle.CommitIfHeldAsync(t => t.Then(TxnOp.Put(Name + "-data", "3")), Ct));
        Assert.False(await handle.IsOwnerAsync(Ct));
        await SessionContract.WaitLostAsync(handle.HandleLostToken, TimeSpan.FromSeconds(5));
        Assert.Equal("1", await Client.Kv.GetStringAsync(Name + "-data", Ct));
    }

    [Fact]
    public async Task Locking_on_a_lost_session_is_refused()
    {
        var session = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        await session.CloseAsync(Ct);

        await Assert.ThrowsAsync<SessionExpiredException>(() => Recipes.CreateMutex(session, Name).LockAsync(Ct));
    }

    [Fact]
    public async Task Locking_or_campaigning_on_a_lease_revoked_unnoticed_is_session_expired()
    {
        await using var session = await Recipes.CreateSessionAsync(cancellationToken: Ct); // 60 s: the keep-alive will not notice soon
        await NewClient().Lease.RevokeAsync(session.LeaseId, Ct);

        await Assert.ThrowsAsync<SessionExpiredException>(() => Recipes.CreateMutex(session, Name).LockAsync(Ct));
        await Assert.ThrowsAsync<SessionExpiredException>(() => Recipes.CreateElection(session, Name + "-election").CampaignAsync("v", Ct));
    }

    private async Task WaitForKeysAsync(int count)
    {
        for (var i = 0; i < 100 && (await Client.Kv.GetPrefixAsync(Name + "/", cancellationToken: Ct)).Count < count; i++)
        {
            await Task.Delay(50, Ct);
        }
    }
}

[Collection(EtcdCollection.Name)]
public sealed class MutexOnEtcd(EtcdTarget target) : MutexContract(target);

[Collection(CoordinationCollection.Name)]
public sealed class MutexOnCoordination(CoordinationTarget target) : MutexContract(target);
