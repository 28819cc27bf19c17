namespace Coordination.Server.Watch;

/// <summary>The hub's tunables (etcd keeps the same ones as package variables that tests shrink).</summary>
internal sealed record WatchHubOptions
{
    /// <summary>Event responses a stream may hold unsent before its watchers fall back to catching up from history (etcd's chanBufLen).</summary>
    public int StreamBufferResponses { get; init; } = 128;

    /// <summary>Revisions one catch-up read covers at most (etcd's watchBatchMaxRevs).</summary>
    public int CatchUpMaxRevisions { get; init; } = 1000;

    /// <summary>Events one catch-up response holds at most, rounded up to a whole revision.</summary>
    public int CatchUpMaxEvents { get; init; } = 1000;

    /// <summary>Bytes of keys and values one catch-up response holds at most, rounded up to a whole revision.</summary>
    public long CatchUpMaxBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>How often watchers created with progress_notify hear about progress (etcd's --experimental-watch-progress-notify-interval).</summary>
    public TimeSpan ProgressNotifyInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Deliberate defects for the watch-guarantee checker's negative controls; always None in a server.</summary>
    public WatchHubFaults Faults { get; init; }
}

/// <summary>Defects a test can switch on to prove the watch-guarantee checker catches them.</summary>
[Flags]
internal enum WatchHubFaults
{
    /// <summary>A correct hub.</summary>
    None = 0,

    /// <summary>When a stream's buffer is full, drop the revision instead of catching up later.</summary>
    DropWhenBufferFull = 1,

    /// <summary>Send each event of a multi-event revision in its own response.</summary>
    SplitRevisions = 2,
}
