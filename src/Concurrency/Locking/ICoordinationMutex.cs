using Coordination.Client.Kv;

namespace Coordination.Concurrency;

/// <summary>
/// A distributed mutex with etcd's algorithm and key layout, so it excludes Go programs using etcd's
/// <c>concurrency.Mutex</c> (and <c>etcdctl lock</c>) on the same name. Each contender owns the key
/// <c>&lt;name&gt;/&lt;lease id in hex&gt;</c>; the holder is the key with the lowest create revision.
/// Contenders on one session share one key, so they do not exclude each other: use a session per
/// independent owner.
/// </summary>
public interface ICoordinationMutex
{
    /// <summary>The lock's name (its keys live under <c>Name + "/"</c>).</summary>
    string Name { get; }

    /// <summary>Waits until the lock is ours. Throws <see cref="SessionExpiredException"/> when the session is lost first.</summary>
    Task<IMutexHandle> LockAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits at most <paramref name="timeout"/> (zero: do not wait) for the lock; null when it was not
    /// acquired in time, in which case our key has been removed again.
    /// </summary>
    Task<IMutexHandle?> TryLockAsync(TimeSpan timeout, CancellationToken cancellationToken = default);
}

/// <summary>A held lock. Disposing releases it.</summary>
public interface IMutexHandle : IAsyncDisposable
{
    /// <summary>Our lock key.</summary>
    string Key { get; }

    /// <summary>
    /// Our key's create revision: strictly greater than the token of every earlier holder of this lock.
    /// Pass it to resources that can reject requests carrying an older token.
    /// </summary>
    long FencingToken { get; }

    /// <summary>Fires when the session is lost (the lock may then be granted to someone else) or the lock is released.</summary>
    CancellationToken HandleLostToken { get; }

    /// <summary>The comparison that holds exactly while we hold the lock: our key exists with <see cref="FencingToken"/> as create revision.</summary>
    TxnCompare OwnershipCompare();

    /// <summary>Reads whether our key still exists (a linearizable read).</summary>
    Task<bool> IsOwnerAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Commits a transaction only if the lock is still held: <paramref name="build"/> adds compares and
    /// operations to a transaction that already compares <see cref="OwnershipCompare"/>. Throws
    /// <see cref="LockNotHeldException"/> when the lock was lost; otherwise returns the result (not
    /// succeeded when one of the caller's compares failed).
    /// </summary>
    Task<TxnResult> CommitIfHeldAsync(Action<Txn> build, CancellationToken cancellationToken = default);

    /// <summary>Deletes our key (if it is still ours), letting the next contender in.</summary>
    Task ReleaseAsync(CancellationToken cancellationToken = default);
}
