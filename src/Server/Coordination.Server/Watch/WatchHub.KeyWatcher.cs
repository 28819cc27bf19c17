using Coordination.Server.Mvcc;
using Etcdserverpb;
using Mvccpb;

namespace Coordination.Server.Watch;

/// <summary>The in-process watch (<see cref="IKeyWatcher"/>) the Lock and Election services use.</summary>
internal sealed partial class WatchHub
{
    /// <inheritdoc />
    public async IAsyncEnumerable<IReadOnlyList<Event>> WatchAsync(KeyRange range, long startRevision, bool prevKv,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using WatchStream stream = OpenStream();
        bool scheduleCatchUp;
        lock (_gate)
        {
            long compact = _store!.CompactRevision;
            if (startRevision > 0 && compact > 0 && startRevision <= compact)
            {
                throw Errors.EtcdErrors.Compacted.ToException();
            }

            scheduleCatchUp = AddWatcherLocked(stream, 0, range, startRevision, prevKv ? WatcherOptions.PrevKv : WatcherOptions.None)
                is { State: WatcherState.Unsynced };
        }

        if (scheduleCatchUp)
        {
            ScheduleCatchUp();
        }

        while (true)
        {
            WatchOutbound? item = await stream.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (item is not { } outbound)
            {
                yield break;
            }

            WatchResponse response = outbound.Response;
            if (response.CompactRevision != 0)
            {
                throw Errors.EtcdErrors.Compacted.ToException();
            }

            foreach (IReadOnlyList<Event> revision in WatchEventSelector.SplitByRevision(response.Events))
            {
                yield return revision;
            }
        }
    }
}
