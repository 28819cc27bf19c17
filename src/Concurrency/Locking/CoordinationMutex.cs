using Coordination.Client;
using Coordination.Client.Kv;

namespace Coordination.Concurrency.Locking;

/// <summary>etcd's mutex: create our key if absent, wait for our predecessors' deletion, confirm our key still exists.</summary>
internal sealed class CoordinationMutex : ICoordinationMutex
{
    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(5);

    private readonly ICoordinationSession _session;
    private readonly TimeProvider _time;
    private readonly string _prefix;
    private readonly bool _confirmOwnershipAfterWait;

    // confirmOwnershipAfterWait is always true outside tests: false builds the deliberately broken mutex of the negative control.
    public CoordinationMutex(ICoordinationSession session, string name, TimeProvider time, bool confirmOwnershipAfterWait = true)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        _time = time;
        Name = name;
        _prefix = RecipeKeys.Prefix(name);
        _confirmOwnershipAfterWait = confirmOwnershipAfterWait;
    }

    public string Name { get; }

    private ICoordinationClient Client => _session.Client;

    public async Task<IMutexHandle> LockAsync(CancellationToken cancellationToken = default) =>
        await AcquireAsync(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false)
        ?? throw new InvalidOperationException("An unbounded wait ended without the lock.");

    public Task<IMutexHandle?> TryLockAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        return AcquireAsync(timeout, cancellationToken);
    }

    private async Task<IMutexHandle?> AcquireAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        ThrowIfLost();
        var key = RecipeKeys.For(_prefix, _session.LeaseId);
        var (myRevision, ownerRevision) = await CreateKeyAsync(key, cancellationToken).ConfigureAwait(false);
        try
        {
            if (ownerRevision != myRevision)
            {
                if (timeout == TimeSpan.Zero)
                {
                    await RemoveKeyAsync(key, myRevision).ConfigureAwait(false);
                    return null;
                }

                using var deadline = timeout == Timeout.InfiniteTimeSpan ? new CancellationTokenSource() : new CancellationTokenSource(timeout, _time);
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _session.SessionLost, deadline.Token);
                try
                {
                    await DeletionWaiter.WaitForPredecessorsAsync(Client, _prefix, myRevision - 1, wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested && !_session.IsLost)
                {
                    await RemoveKeyAsync(key, myRevision).ConfigureAwait(false);
                    return null;
                }
            }

            if (_confirmOwnershipAfterWait)
            {
                var mine = await Client.Kv.GetAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (mine is null || mine.CreateRevision != myRevision)
                {
                    throw new SessionExpiredException(_session.LeaseId, $"The session's lease {_session.LeaseId:x} expired while waiting for '{Name}': our key is gone.");
                }
            }

            return new MutexHandle(_session, key, myRevision, _time);
        }
        catch (OperationCanceledException) when (_session.IsLost && !cancellationToken.IsCancellationRequested)
        {
            await RemoveKeyAsync(key, myRevision).ConfigureAwait(false);
            throw new SessionExpiredException(_session.LeaseId, $"The session's lease {_session.LeaseId:x} was lost while waiting for '{Name}'.");
        }
        catch
        {
            await RemoveKeyAsync(key, myRevision).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Our key (created now, or found from an earlier attempt on this session) and the current owner's create revision.</summary>
    private async Task<(long Mine, long Owner)> CreateKeyAsync(string key, CancellationToken cancellationToken)
    {
        TxnResult result;
        try
        {
            result = await Client.Kv.Txn()
                .If(Compare.CreateRevision(key).Equal(0))
                .Then(TxnOp.Put(key, string.Empty, _session.LeaseId), TxnOp.GetPrefix(_prefix))
                .Else(TxnOp.Get(key), TxnOp.GetPrefix(_prefix))
                .CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdLeaseNotFoundException)
        {
            throw new SessionExpiredException(_session.LeaseId, $"The session's lease {_session.LeaseId:x} no longer exists.");
        }

        var mine = result.Succeeded ? result.Header.Revision : result.Results[0].Range!.Kvs[0].CreateRevision;
        var owner = result.Results[1].Range!.Kvs.Min(kv => kv.CreateRevision);
        return (mine, owner);
    }

    /// <summary>Best effort, bounded, and independent of the caller's (possibly cancelled) token: the lease removes the key anyway.</summary>
    private async Task RemoveKeyAsync(string key, long myRevision)
    {
        try
        {
            using var bounded = new CancellationTokenSource(CleanupTimeout, _time);
            await Client.Kv.Txn()
                .If(Compare.CreateRevision(key).Equal(myRevision))
                .Then(TxnOp.Delete(key))
                .CommitAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is EtcdException or OperationCanceledException)
        {
            // the key stays until the session's lease ends
        }
    }

    private void ThrowIfLost()
    {
        if (_session.IsLost)
        {
            throw new SessionExpiredException(_session.LeaseId, $"The session's lease {_session.LeaseId:x} is lost.");
        }
    }
}
