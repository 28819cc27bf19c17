using Coordination.Server.Watch;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Server.Concurrency;

/// <summary>
/// etcd's distributed lock over the key space. A waiter puts <c>name/&lt;lease hex&gt;</c> (or
/// reuses it when its lease already has one), and holds the lock once every key under
/// <c>name/</c> created before its own is deleted, after checking its own key still exists: a
/// waiter whose lease expired meanwhile is never granted the lock.
/// </summary>
internal sealed class Locks(IConcurrencyStore store, IKeyWatcher watcher)
{
    private readonly PredecessorWait _wait = new(store, watcher);

    /// <summary>The acquired lock: its ownership key and the header of the answer.</summary>
    public readonly record struct Acquired(ByteString Key, ResponseHeader Header);

    /// <summary>Waits until the lock <paramref name="name"/> is held under <paramref name="lease"/> (0: a fresh 60 s lease).</summary>
    public async Task<Acquired> LockAsync(ByteString name, long lease, CancellationToken cancellationToken)
    {
        var leaseId = await SessionLease.ResolveAsync(store, lease, cancellationToken).ConfigureAwait(false);
        var prefix = new KeyPrefix(name);
        var myKey = prefix.KeyOf(leaseId);
        var attempt = await store.TxnAsync(EnqueueTxn(prefix, myKey, leaseId, ByteString.Empty), cancellationToken).ConfigureAwait(false);
        var myRevision = attempt.Succeeded ? attempt.Header.Revision : attempt.Responses[0].ResponseRange.Kvs[0].CreateRevision;
        var owner = attempt.Responses[1].ResponseRange.Kvs;
        if (owner.Count == 0 || owner[0].CreateRevision == myRevision) return new Acquired(myKey, attempt.Header);

        try
        {
            await _wait.WaitDeletesAsync(prefix, myRevision - 1, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Leave the queue (also when the caller gave up), so later waiters are not blocked by us.
            await store.DeleteRangeAsync(new DeleteRangeRequest { Key = myKey }, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        var mine = store.Range(new RangeRequest { Key = myKey });
        if (mine.Kvs.Count == 0) throw ConcurrencyErrors.SessionExpired.ToException();
        return new Acquired(myKey, mine.Header);
    }

    /// <summary>Releases a lock by deleting its ownership key.</summary>
    public async Task<ResponseHeader> UnlockAsync(ByteString key, CancellationToken cancellationToken)
    {
        var deleted = await store.DeleteRangeAsync(new DeleteRangeRequest { Key = key }, cancellationToken).ConfigureAwait(false);
        return deleted.Header;
    }

    /// <summary>
    /// If <paramref name="key"/> does not exist, put it (with the lease) and read the owner; else
    /// read it and the owner. Response 0 is the put or the existing key, response 1 the owner.
    /// </summary>
    internal static TxnRequest EnqueueTxn(KeyPrefix prefix, ByteString key, long leaseId, ByteString value)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = value, Lease = leaseId } });
        txn.Success.Add(new RequestOp { RequestRange = prefix.FirstCreated() });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = key } });
        txn.Failure.Add(new RequestOp { RequestRange = prefix.FirstCreated() });
        return txn;
    }
}
