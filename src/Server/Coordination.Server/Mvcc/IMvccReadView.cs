namespace Coordination.Server.Mvcc;

/// <summary>
/// A consistent read-only view of the key-value state (etcd's ReadView/TxnRead). A published view
/// never changes; a write transaction is also a view that sees its own earlier changes.
/// </summary>
internal interface IMvccReadView
{
    /// <summary>The store revision this view reads at by default.</summary>
    long Revision { get; }

    /// <summary>The revision the store was last compacted at (0 before any compaction).</summary>
    long CompactRevision { get; }

    /// <summary>
    /// Reads the keys of <paramref name="range"/> at <c>options.Revision</c> (≤ 0: <see cref="Revision"/>).
    /// </summary>
    /// <exception cref="Errors.EtcdException">
    /// FutureRevision when the revision is above <see cref="Revision"/>; Compacted when it is below
    /// <see cref="CompactRevision"/> (reading exactly at the compact revision is allowed).
    /// </exception>
    MvccRangeResult Range(KeyRange range, MvccRangeOptions options = default);
}
