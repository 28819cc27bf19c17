using Coordination.Client;
using Coordination.Client.Kv;

namespace Coordination.Concurrency.Locking;

/// <summary>A held lock: our key and its create revision, tied to the session's loss.</summary>
internal sealed class MutexHandle : IMutexHandle
{
    private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(10);

    private readonly ICoordinationSession _session;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _lost;
    private readonly CancellationToken _lostToken;
    private int _released;

    public MutexHandle(ICoordinationSession session, string key, long fencingToken, TimeProvider time)
    {
        _session = session;
        _time = time;
        Key = key;
        FencingToken = fencingToken;
        _lost = CancellationTokenSource.CreateLinkedTokenSource(session.SessionLost);
        _lostToken = _lost.Token;
    }

    public string Key { get; }

    public long FencingToken { get; }

    public CancellationToken HandleLostToken => _lostToken;

    public TxnCompare OwnershipCompare() => Compare.CreateRevision(Key).Equal(FencingToken);

    public async Task<bool> IsOwnerAsync(CancellationToken cancellationToken = default)
    {
        var mine = await _session.Client.Kv.GetAsync(Key, cancellationToken: cancellationToken).ConfigureAwait(false);
        return mine is not null && mine.CreateRevision == FencingToken;
    }

    public async Task<TxnResult> CommitIfHeldAsync(Action<Txn> build, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(build);
        var txn = _session.Client.Kv.Txn().If(OwnershipCompare());
        build(txn);
        txn.Else(TxnOp.Get(Key)); // last answer of the failure branch: tells a lost lock from a failed caller compare
        var result = await txn.CommitAsync(cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            var ours = result.Results[^1].Range;
            if (ours is null || ours.Kvs.Count == 0 || ours.Kvs[0].CreateRevision != FencingToken)
            {
                throw new LockNotHeldException(Key);
            }
        }

        return result;
    }

    public async Task ReleaseAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        try
        {
            await _session.Client.Kv.Txn()
                .If(OwnershipCompare())
                .Then(TxnOp.Delete(Key))
                .CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lost.Cancel();
            _lost.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var bounded = new CancellationTokenSource(ReleaseTimeout, _time);
        try
        {
            await ReleaseAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when ((e is EtcdException or OperationCanceledException) && _session.IsLost)
        {
            // the session is gone, and our key with it
        }
    }
}
