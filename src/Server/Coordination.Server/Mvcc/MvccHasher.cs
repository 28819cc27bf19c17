using Coordination.Server.Errors;

namespace Coordination.Server.Mvcc;

/// <summary>
/// Deterministic hashes of the store used to detect divergence between members: two stores with
/// equal logical state (same kept records, same revisions) hash equal, whatever their history of
/// node splits or restores.
/// </summary>
/// <remarks>
/// Keys are visited in ascending order and, per key, its kept records in revision order; each
/// record contributes (key length, key, main, sub, tombstone flag, and for puts create revision,
/// version, lease, value length, value). HashKv covers every kept record with main ≤ the hash
/// revision, including the records compaction kept at or below the compact revision, so a
/// corrupted old value is detected too.
/// </remarks>
internal static class MvccHasher
{
    /// <summary>Hash of the records up to <paramref name="revision"/> (≤ 0: the view's revision).</summary>
    public static MvccHashKv HashKv(MvccReadView view, long revision)
    {
        long hashRevision = MvccReads.ResolveRevision(revision, view.Revision, view.CompactRevision);
        var crc = default(Crc32C);
        // A fixed domain tag first, so even an empty store hashes to a non-zero, comparable value.
        crc.Append("key"u8);
        view.ForEachHistory(history =>
        {
            AppendHistory(ref crc, history, hashRevision);
            return true;
        });
        return new MvccHashKv(crc.Result, view.CompactRevision, hashRevision);
    }

    /// <summary>Hash of the whole state: every kept record plus the current and compact revisions.</summary>
    public static uint Hash(MvccReadView view)
    {
        var crc = default(Crc32C);
        crc.Append(view.Revision);
        crc.Append(view.CompactRevision);
        view.ForEachHistory(history =>
        {
            AppendHistory(ref crc, history, long.MaxValue);
            return true;
        });
        return crc.Result;
    }

    private static void AppendHistory(ref Crc32C crc, KeyHistory history, long upTo)
    {
        bool keyWritten = false;
        foreach (ref readonly KeyRecord record in history.Records)
        {
            if (record.Main > upTo)
            {
                break;
            }

            if (!keyWritten)
            {
                crc.Append((long)history.Key.Length);
                crc.Append(history.Key.Span);
                keyWritten = true;
            }

            crc.Append(record.Main);
            crc.Append((long)record.Sub);
            crc.Append(record.IsTombstone ? (byte)1 : (byte)0);
            if (!record.IsTombstone)
            {
                crc.Append(record.CreateRevision);
                crc.Append(record.Version);
                crc.Append(record.Lease);
                crc.Append((long)record.Value!.Length);
                crc.Append(record.Value.Span);
            }
        }
    }
}
