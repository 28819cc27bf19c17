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

    /// <summary>How often watchers created with progress_notify hear about progress (etcd's --experimental-watch-progress-notify-interval).</summary>
    public TimeSpan ProgressNotifyInterval { get; init; } = TimeSpan.FromMinutes(10);
}
