namespace Coordination.Concurrency.DistributedLocking;

/// <summary>Creates locks by name, in the shape of DistributedLock's <c>IDistributedLockProvider</c>.</summary>
public interface IDistributedLockProvider
{
    /// <summary>The lock called <paramref name="name"/> (any string; it becomes part of a key).</summary>
    IDistributedLock CreateLock(string name);
}

/// <summary>A named lock, in the shape of DistributedLock's <c>IDistributedLock</c>. Every acquisition excludes every other, in this process or not.</summary>
public interface IDistributedLock
{
    /// <summary>The lock's name.</summary>
    string Name { get; }

    /// <summary>Waits for the lock, at most <paramref name="timeout"/> (null: without bound); throws <see cref="TimeoutException"/> when it passes.</summary>
    ValueTask<IDistributedSynchronizationHandle> AcquireAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default);

    /// <summary>Waits at most <paramref name="timeout"/> (default zero: do not wait); null when the lock was not acquired.</summary>
    ValueTask<IDistributedSynchronizationHandle?> TryAcquireAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default);
}

/// <summary>A held lock, in the shape of DistributedLock's handle. Disposing releases it.</summary>
public interface IDistributedSynchronizationHandle : IAsyncDisposable
{
    /// <summary>Fires when the lock is lost (its session's lease ended) or released.</summary>
    CancellationToken HandleLostToken { get; }

    /// <summary>The fencing token of this acquisition (strictly increasing across holders).</summary>
    long FencingToken { get; }
}
