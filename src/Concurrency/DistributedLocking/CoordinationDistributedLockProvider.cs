namespace Coordination.Concurrency.DistributedLocking;

/// <summary>Locks backed by <see cref="ICoordinationMutex"/>; each acquisition runs on its own session, so acquisitions in one process exclude each other too.</summary>
internal sealed class CoordinationDistributedLockProvider(ICoordinationConcurrency recipes, ConcurrencyOptions options) : IDistributedLockProvider
{
    public IDistributedLock CreateLock(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new CoordinationDistributedLock(recipes, options, name);
    }
}

/// <summary>One named lock: a session and a mutex per acquisition.</summary>
internal sealed class CoordinationDistributedLock(ICoordinationConcurrency recipes, ConcurrencyOptions options, string name) : IDistributedLock
{
    public string Name => name;

    public async ValueTask<IDistributedSynchronizationHandle> AcquireAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        await TryAcquireCoreAsync(timeout ?? Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false)
        ?? throw new TimeoutException($"The lock '{name}' was not acquired within {timeout}.");

    public ValueTask<IDistributedSynchronizationHandle?> TryAcquireAsync(TimeSpan timeout = default, CancellationToken cancellationToken = default) =>
        TryAcquireCoreAsync(timeout, cancellationToken);

    private async ValueTask<IDistributedSynchronizationHandle?> TryAcquireCoreAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var session = await recipes.CreateSessionAsync(new SessionOptions { Ttl = options.SessionTtl }, cancellationToken).ConfigureAwait(false);
        try
        {
            var mutex = recipes.CreateMutex(session, options.LockPrefix + name);
            var handle = timeout == Timeout.InfiniteTimeSpan
                ? await mutex.LockAsync(cancellationToken).ConfigureAwait(false)
                : await mutex.TryLockAsync(timeout, cancellationToken).ConfigureAwait(false);
            if (handle is null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
                return null;
            }

            return new Handle(session, handle);
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private sealed class Handle(ICoordinationSession session, IMutexHandle mutex) : IDistributedSynchronizationHandle
    {
        public CancellationToken HandleLostToken => mutex.HandleLostToken;

        public long FencingToken => mutex.FencingToken;

        public async ValueTask DisposeAsync()
        {
            try
            {
                await mutex.DisposeAsync().ConfigureAwait(false);
            }
            finally
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
