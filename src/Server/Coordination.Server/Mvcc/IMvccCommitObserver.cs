namespace Coordination.Server.Mvcc;

/// <summary>
/// Told about every write transaction that produced a revision, right after it became visible to
/// readers, on the writer's thread (the watch hub's entry point, etcd's watchableStore.notify).
/// </summary>
internal interface IMvccCommitObserver
{
    /// <summary>Called once per committed revision, in revision order. Must not block.</summary>
    void OnCommit(MvccCommit commit);
}
