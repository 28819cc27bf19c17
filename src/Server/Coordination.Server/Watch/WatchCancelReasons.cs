namespace Coordination.Server.Watch;

/// <summary>The cancel_reason texts etcd puts in a failed create's response (watch_id -1).</summary>
internal static class WatchCancelReasons
{
    /// <summary>key ≥ range_end.</summary>
    public const string EmptyRange = "mvcc: watcher range is empty";

    /// <summary>A client-chosen watch_id already in use on the stream.</summary>
    public const string DuplicateId = "mvcc: duplicate watch ID provided on the WatchStream";

    /// <summary>A negative start_revision (etcd 3.4.38+/3.5.24+).</summary>
    public const string NegativeStartRevision = "etcdserver: mvcc: required revision has been compacted";
}
