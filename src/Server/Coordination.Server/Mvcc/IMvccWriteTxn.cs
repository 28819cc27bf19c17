using Google.Protobuf;
using Mvccpb;

namespace Coordination.Server.Mvcc;

/// <summary>
/// The single write transaction of the store (etcd's TxnWrite). All changes share one new main
/// revision with increasing sub revisions; reads through this view see them. Nothing is visible to
/// other readers until <see cref="End"/>; <see cref="Abort"/> (or disposing without End) discards
/// everything.
/// </summary>
internal interface IMvccWriteTxn : IMvccReadView, IDisposable
{
    /// <summary>Puts <paramref name="key"/>; returns the revision the transaction will commit at.</summary>
    long Put(ByteString key, ByteString value, long lease);

    /// <summary>
    /// Deletes every live key of <paramref name="range"/>; returns how many were deleted and the
    /// header revision etcd reports for it (the txn's revision if it changed anything so far, otherwise the current one).
    /// </summary>
    (long Deleted, long Revision) DeleteRange(KeyRange range);

    /// <summary>The events produced so far.</summary>
    IReadOnlyList<Event> Changes { get; }

    /// <summary>Publishes the changes (if any) atomically to readers and returns them.</summary>
    MvccCommit End();

    /// <summary>Discards every change.</summary>
    void Abort();
}
