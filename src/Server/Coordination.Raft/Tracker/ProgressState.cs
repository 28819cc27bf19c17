namespace Coordination.Raft.Tracker;

/// <summary>How the leader is currently sending entries to one follower.</summary>
internal enum ProgressState
{
    /// <summary>
    /// The leader does not know where the follower's log matches its own: it sends one append
    /// message per heartbeat interval and walks <see cref="Progress.Next"/> back on each rejection.
    /// </summary>
    Probe,

    /// <summary>The logs match up to <see cref="Progress.Match"/>: entries stream optimistically, bounded by <see cref="Inflights"/>.</summary>
    Replicate,

    /// <summary>The follower needs entries the leader no longer holds: a snapshot is on its way, nothing else is sent.</summary>
    Snapshot,
}
