using Coordination.Server.Mvcc;
using Etcdserverpb;
using Mvccpb;

namespace Coordination.Server.Watch;

/// <summary>
/// The watchable side of the store (etcd's watchableStore): every watcher is either
/// <b>synced</b> (gets each new revision straight from <see cref="OnCommit"/>) or <b>unsynced</b>
/// (its next revision is in the past: it was created with an old start revision, or its stream's
/// buffer was full when a revision came — etcd's victims). Unsynced watchers catch up from the
/// store's history in bounded batches on a background task and then rejoin the synced group.
/// </summary>
/// <remarks>
/// <para>Invariant: a watcher's <see cref="Watcher.NextRevision"/> is the lowest revision not yet
/// queued for it; every queue operation for a watcher happens under <see cref="_gate"/>, in
/// revision order, and moves <see cref="Watcher.NextRevision"/> past what it queued. So a watcher
/// never misses nor repeats a revision, and all events of one revision go in one response.</para>
/// <para>The commit path never waits: it only appends to unbounded channels after checking a
/// counter. A full stream turns its watchers into catch-up work instead of blocking the writer.</para>
/// </remarks>
internal sealed partial class WatchHub : IMvccCommitObserver, IKeyWatcher
{
    private readonly Lock _gate = new();
    private readonly WatchHubOptions _options;
    private readonly TimeProvider _time;
    private readonly WatcherGroup _synced = new();
    private readonly HashSet<Watcher> _unsynced = new(ReferenceEqualityComparer.Instance);
    private readonly List<Watcher> _matches = [];
    private readonly Dictionary<Watcher, WatchResponse> _pending = new(ReferenceEqualityComparer.Instance);
    private readonly List<Watcher> _victims = [];
    private MvccStore? _store;
    private long _notifiedRevision;
    private bool _catchUpRunning;

    /// <summary>Creates a hub; call <see cref="Attach"/> with the store before opening streams.</summary>
    public WatchHub(WatchHubOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
    }

    /// <summary>The store whose history catching-up watchers read.</summary>
    public void Attach(MvccStore store)
    {
        lock (_gate)
        {
            _store = store;
            _notifiedRevision = store.Revision;
        }
    }

    /// <summary>
    /// The attached store's contents were replaced by a snapshot from the leader (this member was too
    /// far behind for log entries): the revisions in between were never committed here one by one,
    /// so every synced watcher becomes unsynced and catches up from the restored history at its next
    /// revision (or is cancelled as compacted when that history no longer holds it), as etcd does.
    /// </summary>
    public void StoreRestored()
    {
        bool scheduleCatchUp;
        lock (_gate)
        {
            // A synced watcher has had everything up to the old notified revision.
            long next = _notifiedRevision + 1;
            _notifiedRevision = _store?.Revision ?? _notifiedRevision;
            var moved = _synced.All();
            foreach (Watcher watcher in moved)
            {
                _synced.Remove(watcher);
                watcher.NextRevision = Math.Max(watcher.NextRevision, next);
                MakeUnsynced(watcher);
            }
            scheduleCatchUp = moved.Count > 0;
        }
        if (scheduleCatchUp)
        {
            ScheduleCatchUp();
        }
    }

    /// <summary>Watchers currently synced (tests, metrics).</summary>
    public int SyncedCount
    {
        get { lock (_gate) return _synced.Count; }
    }

    /// <summary>Watchers currently catching up (tests, metrics).</summary>
    public int UnsyncedCount
    {
        get { lock (_gate) return _unsynced.Count; }
    }

    /// <summary>Opens a stream that can carry many watchers.</summary>
    public WatchStream OpenStream() => new(this, _options.StreamBufferResponses);

    // ------------------------------------------------------------------ commit path

    /// <inheritdoc />
    public void OnCommit(MvccCommit commit)
    {
        if (!commit.HasChanges)
        {
            return;
        }

        bool scheduleCatchUp;
        lock (_gate)
        {
            _notifiedRevision = commit.Revision;
            if (_synced.Count == 0)
            {
                return;
            }

            CollectForSynced(commit);
            foreach ((Watcher watcher, WatchResponse response) in _pending)
            {
                if (_options.Faults != WatchHubFaults.None && EnqueueWithFault(watcher, response, commit.Revision))
                {
                    continue;
                }

                if (watcher.Stream.TryEnqueueEvents(response, watcher.Has(WatcherOptions.Fragment)))
                {
                    MarkDelivered(watcher, commit.Revision + 1);
                }
                else
                {
                    _victims.Add(watcher);
                }
            }

            _pending.Clear();
            foreach (Watcher victim in _victims)
            {
                // Everything before this revision was queued; catch up from it.
                _synced.Remove(victim);
                victim.NextRevision = commit.Revision;
                MakeUnsynced(victim);
            }

            scheduleCatchUp = _victims.Count > 0;
            _victims.Clear();
        }

        if (scheduleCatchUp)
        {
            ScheduleCatchUp();
        }
    }

    private void CollectForSynced(MvccCommit commit)
    {
        for (int i = 0; i < commit.Events.Count; i++)
        {
            Event change = commit.Events[i];
            _matches.Clear();
            _synced.CollectMatches(change.Kv.Key, _matches);
            foreach (Watcher watcher in _matches)
            {
                if (commit.Revision < watcher.NextRevision)
                {
                    continue;
                }

                Event? selected = WatchEventSelector.Select(watcher, change, commit.PreviousKvs[i]);
                if (selected is null)
                {
                    continue;
                }

                if (!_pending.TryGetValue(watcher, out WatchResponse? response))
                {
                    response = NewEventResponse(watcher, commit.Revision);
                    _pending[watcher] = response;
                }

                response.Events.Add(selected);
            }
        }

        _matches.Clear();
    }

    // ------------------------------------------------------------------ stream requests

    /// <summary>Refuses a create on <paramref name="stream"/> with <paramref name="reason"/> (etcd's answer to a create it will not serve).</summary>
    internal void Refuse(WatchStream stream, string reason)
    {
        lock (_gate)
        {
            stream.EnqueueControl(new WatchResponse { Header = Header(_notifiedRevision), WatchId = -1, Created = true, Canceled = true, CancelReason = reason });
        }
    }

    /// <summary>Handles a create request on <paramref name="stream"/> (etcd's recvLoop create branch).</summary>
    internal void Create(WatchStream stream, WatchCreateRequest request)
    {
        string? error = WatchRequestDecoder.TryDecode(request, out KeyRange range, out WatcherOptions options);
        bool scheduleCatchUp = false;
        lock (_gate)
        {
            long current = _notifiedRevision;
            if (error is null && request.WatchId != 0 && stream.Watchers.ContainsKey(request.WatchId))
            {
                error = WatchCancelReasons.DuplicateId;
            }

            if (error is not null)
            {
                stream.EnqueueControl(new WatchResponse { Header = Header(current), WatchId = -1, Created = true, Canceled = true, CancelReason = error });
                return;
            }

            long id = request.WatchId != 0 ? request.WatchId : stream.NextAutoId();
            stream.EnqueueControl(new WatchResponse { Header = Header(current), WatchId = id, Created = true });
            scheduleCatchUp = AddWatcherLocked(stream, id, range, request.StartRevision, options) is { State: WatcherState.Unsynced };
        }

        if (scheduleCatchUp)
        {
            ScheduleCatchUp();
        }
    }

    private Watcher AddWatcherLocked(WatchStream stream, long id, KeyRange range, long startRevision, WatcherOptions options)
    {
        long current = _notifiedRevision;
        var watcher = new Watcher(stream, id, range, startRevision <= 0 ? current + 1 : startRevision, options);
        stream.Watchers[id] = watcher;
        if (watcher.NextRevision > current)
        {
            _synced.Add(watcher);
        }
        else
        {
            MakeUnsynced(watcher);
        }

        if (watcher.Has(WatcherOptions.ProgressNotify))
        {
            stream.EnsureProgressTimer(_time, _options.ProgressNotifyInterval);
        }

        return watcher;
    }

    /// <summary>Cancels a watcher by id; an unknown id gets no response (etcd).</summary>
    internal void Cancel(WatchStream stream, long watchId)
    {
        lock (_gate)
        {
            if (!stream.Watchers.Remove(watchId, out Watcher? watcher))
            {
                return;
            }

            stream.EnqueueControl(new WatchResponse { Header = Header(_notifiedRevision), WatchId = watchId, Canceled = true });
            Detach(watcher);
        }
    }

    /// <summary>
    /// Answers a progress request with watch_id -1 and the revision every watcher on the stream has
    /// seen; while some watcher catches up the answer waits until all are synced.
    /// </summary>
    internal void RequestProgress(WatchStream stream)
    {
        lock (_gate)
        {
            if (stream.UnsyncedCount == 0)
            {
                stream.EnqueueControl(new WatchResponse { Header = Header(_notifiedRevision), WatchId = -1 });
            }
            else
            {
                stream.ProgressRequested = true;
            }
        }
    }

    /// <summary>A progress tick: each quiet, synced progress_notify watcher gets an empty response.</summary>
    internal void ProgressTick(WatchStream stream)
    {
        lock (_gate)
        {
            foreach (Watcher watcher in stream.Watchers.Values)
            {
                if (!watcher.Has(WatcherOptions.ProgressNotify) || watcher.State == WatcherState.Canceled)
                {
                    continue;
                }

                if (watcher.QuietSinceTick && watcher.State == WatcherState.Synced)
                {
                    stream.EnqueueControl(new WatchResponse { Header = Header(_notifiedRevision), WatchId = watcher.Id });
                }

                watcher.QuietSinceTick = true;
            }
        }
    }

    /// <summary>Removes every watcher of a closing stream.</summary>
    internal void CloseStream(WatchStream stream)
    {
        lock (_gate)
        {
            stream.StopProgressTimer();
            foreach (Watcher watcher in stream.Watchers.Values)
            {
                Detach(watcher);
            }

            stream.Watchers.Clear();
        }
    }

    /// <summary>The stream's buffer has room again.</summary>
    internal void OnStreamDrained(WatchStream stream)
    {
        bool hasWork;
        lock (_gate)
        {
            hasWork = stream.UnsyncedCount > 0;
        }

        if (hasWork)
        {
            ScheduleCatchUp();
        }
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>The negative controls' defects; true when the response was handled (wrongly).</summary>
    private bool EnqueueWithFault(Watcher watcher, WatchResponse response, long revision)
    {
        bool fragment = watcher.Has(WatcherOptions.Fragment);
        if ((_options.Faults & WatchHubFaults.DropWhenBufferFull) != 0 && watcher.Stream.IsFull)
        {
            MarkDelivered(watcher, revision + 1);
            return true;
        }

        if ((_options.Faults & WatchHubFaults.SplitRevisions) != 0 && response.Events.Count > 1)
        {
            foreach (Event change in response.Events)
            {
                WatchResponse single = NewEventResponse(watcher, revision);
                single.Events.Add(change);
                watcher.Stream.EnqueueEvents(single, fragment);
            }

            MarkDelivered(watcher, revision + 1);
            return true;
        }

        return false;
    }

    private void MakeUnsynced(Watcher watcher)
    {
        watcher.State = WatcherState.Unsynced;
        _unsynced.Add(watcher);
        watcher.Stream.UnsyncedCount++;
    }

    private static void MarkDelivered(Watcher watcher, long nextRevision)
    {
        watcher.NextRevision = nextRevision;
        watcher.HasDelivered = true;
        watcher.QuietSinceTick = false;
    }

    private void Detach(Watcher watcher)
    {
        switch (watcher.State)
        {
            case WatcherState.Synced:
                _synced.Remove(watcher);
                break;
            case WatcherState.Unsynced:
                _unsynced.Remove(watcher);
                watcher.Stream.UnsyncedCount--;
                FlushProgressRequest(watcher.Stream);
                break;
        }

        watcher.State = WatcherState.Canceled;
    }

    private void FlushProgressRequest(WatchStream stream)
    {
        if (stream.ProgressRequested && stream.UnsyncedCount == 0)
        {
            stream.ProgressRequested = false;
            stream.EnqueueControl(new WatchResponse { Header = Header(_notifiedRevision), WatchId = -1 });
        }
    }

    private static WatchResponse NewEventResponse(Watcher watcher, long revision) =>
        new() { Header = Header(revision), WatchId = watcher.Id };

    private static ResponseHeader Header(long revision) => new() { Revision = revision };
}
