using Coordination.Client;
using Coordination.Client.Kv;
using Coordination.Client.Watch;

namespace Coordination.Concurrency.Locking;

/// <summary>
/// Waits until no key under a prefix has a create revision at or below a bound, one key at a time:
/// it watches only the key with the greatest create revision below ours (our predecessor), and when
/// that goes, looks again. Waiting on one key avoids a thundering herd on every release.
/// </summary>
internal static class DeletionWaiter
{
    public static async Task WaitForPredecessorsAsync(ICoordinationClient client, string prefix, long maxCreateRevision, CancellationToken cancellationToken)
    {
        while (true)
        {
            var range = await client.Kv.GetPrefixAsync(prefix, new RangeOptions { KeysOnly = true }, cancellationToken).ConfigureAwait(false);
            KeyValue? predecessor = null;
            foreach (var kv in range.Kvs)
            {
                if (kv.CreateRevision <= maxCreateRevision && (predecessor is null || kv.CreateRevision > predecessor.CreateRevision))
                {
                    predecessor = kv;
                }
            }

            if (predecessor is null)
            {
                return;
            }

            // The predecessor existed at the read's revision, so its deletion comes after it. Watching from
            // the next revision (not from the read's, as etcd's Go client does) keeps the watch "synced"
            // in etcd: a watch starting at or below the current revision is caught up by a background
            // loop that runs every 100 ms, which would add up to 100 ms to every hand-over.
            await WaitForDeleteAsync(client, predecessor.Key, range.Header.Revision + 1, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task WaitForDeleteAsync(ICoordinationClient client, ReadOnlyMemory<byte> key, long fromRevision, CancellationToken cancellationToken)
    {
        var subscription = await client.Watch.WatchAsync(key, new WatchOptions { StartRevision = fromRevision }, cancellationToken).ConfigureAwait(false);
        await using (((IAsyncDisposable)subscription).ConfigureAwait(false))
        {
            try
            {
                await foreach (var change in subscription.EventsAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (change.Type == WatchEventType.Delete)
                    {
                        return;
                    }
                }
            }
            catch (EtcdCompactedException)
            {
                // history from our read is gone: the caller looks again at the current keys
            }
        }
    }
}
