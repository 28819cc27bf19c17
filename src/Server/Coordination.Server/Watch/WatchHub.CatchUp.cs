using Coordination.Server.Mvcc;
using Etcdserverpb;
using Mvccpb;

namespace Coordination.Server.Watch;

/// <summary>The catch-up side of the hub: unsynced watchers read history on a background task.</summary>
internal sealed partial class WatchHub
{
    private void ScheduleCatchUp()
    {
        lock (_gate)
        {
            if (_catchUpRunning)
            {
                return;
            }

            _catchUpRunning = true;
        }

        _ = Task.Run(CatchUpLoopGuarded);
    }

    private void CatchUpLoopGuarded()
    {
        try
        {
            CatchUpLoop();
        }
        catch
        {
            // A failed round must not leave the loop marked as running forever.
            lock (_gate) _catchUpRunning = false;
            throw;
        }
    }

    private void CatchUpLoop()
    {
        var work = new List<Watcher>();
        while (true)
        {
            lock (_gate)
            {
                work.Clear();
                foreach (Watcher watcher in _unsynced)
                {
                    if (!watcher.Stream.IsFull)
                    {
                        work.Add(watcher);
                    }
                }

                if (work.Count == 0)
                {
                    // Nothing to do, or every stream behind is full: a drain reschedules.
                    _catchUpRunning = false;
                    return;
                }
            }

            foreach (Watcher watcher in work)
            {
                if (!watcher.Stream.IsFull)
                {
                    CatchUp(watcher);
                }
            }
        }
    }

    /// <summary>One catch-up step for one watcher: a batch from history, a compaction cancel, or joining the synced group.</summary>
    private void CatchUp(Watcher watcher)
    {
        MvccReadView view = _store!.ReadView;
        long next;
        bool hasDelivered;
        lock (_gate)
        {
            if (watcher.State != WatcherState.Unsynced)
            {
                return;
            }

            next = watcher.NextRevision;
            hasDelivered = watcher.HasDelivered;
        }

        long compact = view.CompactRevision;
        // etcd lets a watch start exactly at the compact revision; a watcher that already
        // delivered and still needs that revision may have lost a deletion compacted at it.
        if (compact > 0 && (next < compact || (next == compact && hasDelivered)))
        {
            lock (_gate)
            {
                if (watcher.State != WatcherState.Unsynced || watcher.NextRevision != next)
                {
                    return;
                }

                // The cancel goes out before a progress answer that this watcher's departure releases.
                watcher.Stream.EnqueueControl(new WatchResponse { Header = Header(0), WatchId = watcher.Id, Canceled = true, CompactRevision = compact });
                Detach(watcher);
            }

            return;
        }

        MvccHistoryBatch? batch = null;
        WatchResponse? response = null;
        if (next <= view.Revision)
        {
            long to = next + _options.CatchUpMaxRevisions - 1;
            batch = view.History(watcher.Range, next, to, _options.CatchUpMaxEvents, _options.CatchUpMaxBytes);
            for (int i = 0; i < batch.Events.Count; i++)
            {
                Event? selected = WatchEventSelector.Select(watcher, batch.Events[i], batch.PreviousKvs[i]);
                if (selected is not null)
                {
                    response ??= NewEventResponse(watcher, view.Revision);
                    response.Events.Add(selected);
                }
            }
        }

        lock (_gate)
        {
            if (watcher.State != WatcherState.Unsynced || watcher.NextRevision != next)
            {
                return;
            }

            if (response is not null)
            {
                watcher.Stream.EnqueueEvents(response, watcher.Has(WatcherOptions.Fragment));
                MarkDelivered(watcher, batch!.NextRevision);
            }
            else if (batch is not null)
            {
                watcher.NextRevision = batch.NextRevision;
            }

            if (watcher.NextRevision > _notifiedRevision)
            {
                // Every revision the commit path has announced is queued: from now on it delivers.
                _unsynced.Remove(watcher);
                watcher.Stream.UnsyncedCount--;
                watcher.State = WatcherState.Synced;
                _synced.Add(watcher);
                FlushProgressRequest(watcher.Stream);
            }
        }
    }
}
