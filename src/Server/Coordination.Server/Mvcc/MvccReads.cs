using Coordination.Server.Errors;
using Mvccpb;

namespace Coordination.Server.Mvcc;

/// <summary>Range reads over a tree root, shared by published views and the write transaction.</summary>
internal static class MvccReads
{
    /// <summary>
    /// Resolves the revision to read at: ≤ 0 means <paramref name="current"/>; above it is a future
    /// revision; below <paramref name="compacted"/> has been compacted.
    /// </summary>
    public static long ResolveRevision(long requested, long current, long compacted)
    {
        if (requested > current)
        {
            throw EtcdErrors.FutureRevision.ToException();
        }

        long revision = requested <= 0 ? current : requested;
        if (revision < compacted)
        {
            throw EtcdErrors.Compacted.ToException();
        }

        return revision;
    }

    /// <summary>Reads <paramref name="range"/> at <paramref name="revision"/> (already resolved).</summary>
    public static MvccRangeResult Range(BTreeNode root, in KeyRange range, long revision, long viewRevision, long limit, bool countOnly)
    {
        var kvs = new List<KeyValue>();
        long count = 0;
        PersistentBTree.Scan(root, range, history =>
        {
            int index = history.IndexAt(revision);
            if (index < 0 || history.Records[index].IsTombstone)
            {
                return true;
            }

            count++;
            if (!countOnly && (limit <= 0 || kvs.Count < limit))
            {
                kvs.Add(history.ToKeyValue(history.Records[index]));
            }

            return true;
        });
        return new MvccRangeResult(kvs, count, viewRevision);
    }
}
