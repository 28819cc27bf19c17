using Coordination.Server.Mvcc;

namespace Coordination.Server.Watch;

/// <summary>Where a watcher is in the hub (etcd's synced / unsynced-or-victim groups).</summary>
internal enum WatcherState : byte
{
    /// <summary>Up to date: receives each new revision from the commit path.</summary>
    Synced,

    /// <summary>Behind (past start revision, or its stream's buffer was full): catches up from history.</summary>
    Unsynced,

    /// <summary>Gone from the hub (canceled by the client, compacted, or its stream closed).</summary>
    Canceled,
}

/// <summary>Per-watcher request options, packed into one byte.</summary>
[Flags]
internal enum WatcherOptions : byte
{
    /// <summary>No option.</summary>
    None = 0,

    /// <summary>Drop PUT events (etcd's NOPUT filter).</summary>
    NoPut = 1,

    /// <summary>Drop DELETE events (etcd's NODELETE filter).</summary>
    NoDelete = 2,

    /// <summary>Attach the key's previous version to each event.</summary>
    PrevKv = 4,

    /// <summary>Send a progress notification each interval in which the watcher got no event.</summary>
    ProgressNotify = 8,

    /// <summary>Split responses above the message limit into fragments.</summary>
    Fragment = 16,
}

/// <summary>
/// One watcher: a key range on one stream and the next revision it must receive. Kept small (tens
/// of bytes plus its key) because a server holds tens of thousands; its events go into its
/// stream's shared buffer, never a per-watcher one. All mutable fields are guarded by the hub's lock.
/// </summary>
internal sealed class Watcher
{
    public Watcher(WatchStream stream, long id, KeyRange range, long nextRevision, WatcherOptions options)
    {
        Stream = stream;
        Id = id;
        Range = range;
        NextRevision = nextRevision;
        Options = options;
        State = WatcherState.Synced;
        QuietSinceTick = true;
    }

    /// <summary>The client stream the watcher belongs to.</summary>
    public WatchStream Stream { get; }

    /// <summary>The watch id on its stream.</summary>
    public long Id { get; }

    /// <summary>The watched keys.</summary>
    public KeyRange Range { get; }

    /// <summary>The request options.</summary>
    public WatcherOptions Options { get; }

    /// <summary>The lowest revision not yet delivered: every earlier matching event has been queued once.</summary>
    public long NextRevision { get; set; }

    /// <summary>Which hub group the watcher is in.</summary>
    public WatcherState State { get; set; }

    /// <summary>True when nothing was queued for the watcher since the last progress tick.</summary>
    public bool QuietSinceTick { get; set; }

    /// <summary>True when the watcher has queued at least one event response (or a compaction).</summary>
    public bool HasDelivered { get; set; }

    /// <summary>True when <paramref name="option"/> was requested.</summary>
    public bool Has(WatcherOptions option) => (Options & option) != 0;
}
