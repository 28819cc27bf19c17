using Coordination.Server.Mvcc;
using Coordination.Server.Watch;
using Google.Protobuf;
using Mvccpb;

namespace Coordination.Server.Concurrency;

/// <summary>
/// Waits until no key under a prefix was created at or before a revision: repeatedly takes the
/// latest such key and waits for its deletion on an in-process watch from the revision it was
/// read at, so a deletion between the read and the watch is not missed (etcd's waitDeletes).
/// </summary>
internal sealed class PredecessorWait(IConcurrencyStore store, IKeyWatcher watcher)
{
    /// <summary>Completes once every key under <paramref name="prefix"/> with create revision ≤ <paramref name="maxCreateRevision"/> is gone.</summary>
    public async Task WaitDeletesAsync(KeyPrefix prefix, long maxCreateRevision, CancellationToken cancellationToken)
    {
        while (true)
        {
            var latest = store.Range(prefix.LastCreatedUpTo(maxCreateRevision));
            if (latest.Kvs.Count == 0) return;
            await WaitDeleteAsync(latest.Kvs[0].Key, latest.Header.Revision, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Completes at the first deletion of <paramref name="key"/> at or after <paramref name="fromRevision"/>.</summary>
    public async Task WaitDeleteAsync(ByteString key, long fromRevision, CancellationToken cancellationToken)
    {
        await foreach (var events in watcher.WatchAsync(KeyRange.Single(key), fromRevision, prevKv: false, cancellationToken).ConfigureAwait(false))
        {
            foreach (var e in events)
            {
                if (e.Type == Event.Types.EventType.Delete) return;
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
        throw new InvalidOperationException("the watch ended while waiting for a deletion");
    }
}
