using System.Runtime.CompilerServices;
using Google.Protobuf;
using Mvccpb;

namespace Coordination.Server.Mvcc;

/// <summary>
/// The immutable history of one key: its records in ascending revision order, with tombstones
/// ending each generation (etcd's keyIndex, flattened). Every change returns a new instance, so a
/// published history can be read by any thread without locks.
/// </summary>
/// <remarks>
/// Example (etcd's keyIndex example, revisions written as main only): put@1, put@2, del@3, put@4,
/// del@5 gives records [1, 2, 3†, 4, 5†]. Compact(2) keeps [2, 3†, 4, 5†] (2 is the latest ≤ 2 and
/// still live at 2); Compact(3) keeps [4, 5†] (the latest ≤ 3 is a tombstone, so it goes too);
/// Compact(5) leaves nothing and the key disappears from the index.
/// </remarks>
internal sealed class KeyHistory
{
    /// <summary>Histories longer than this are searched by bisection rather than scanned.</summary>
    private const int ScanLimit = 16;

    // The records are _records[0.._count). The array may be longer and shared with newer
    // histories of the same key: appending writes the slot just past _count when no newer history
    // has claimed it yet (the single writer tracks claims in _claimed), so a hot key's history
    // grows in amortized O(1) instead of being copied on every put. Readers of this instance only
    // ever look below _count, which nobody writes again.
    private readonly KeyRecord[] _records;
    private readonly int _count;
    private readonly StrongBox<int>? _claimed;

    private KeyHistory(ByteString key, KeyRecord[] records, int count, StrongBox<int>? claimed)
    {
        Key = key;
        _records = records;
        _count = count;
        _claimed = claimed;
    }

    /// <summary>The key.</summary>
    public ByteString Key { get; }

    /// <summary>The records, oldest first; never empty.</summary>
    public ReadOnlySpan<KeyRecord> Records => _records.AsSpan(0, _count);

    /// <summary>The newest record.</summary>
    public ref readonly KeyRecord Latest => ref _records[_count - 1];

    /// <summary>A history holding one record.</summary>
    public static KeyHistory Create(ByteString key, in KeyRecord record) => new(key, [record], 1, null);

    /// <summary>Builds a history from records already in ascending revision order (image restore).</summary>
    public static KeyHistory FromRecords(ByteString key, KeyRecord[] records)
    {
        if (records.Length == 0)
        {
            throw new ArgumentException("A key history needs at least one record.", nameof(records));
        }

        return new KeyHistory(key, records, records.Length, null);
    }

    /// <summary>A new history with <paramref name="record"/> appended (it must be the newest). Only the store's single writer calls this.</summary>
    public KeyHistory Append(in KeyRecord record)
    {
        if (_claimed is not null && _claimed.Value == _count && _count < _records.Length)
        {
            _records[_count] = record;
            _claimed.Value = _count + 1;
            return new KeyHistory(Key, _records, _count + 1, _claimed);
        }

        var grown = new KeyRecord[Math.Max(4, _count * 2)];
        Records.CopyTo(grown);
        grown[_count] = record;
        return new KeyHistory(Key, grown, _count + 1, new StrongBox<int>(_count + 1));
    }

    /// <summary>
    /// Index of the newest record whose main revision is ≤ <paramref name="revision"/>, or -1
    /// when the key had no record yet at that revision.
    /// </summary>
    public int IndexAt(long revision)
    {
        var records = Records;
        if (records.Length <= ScanLimit || records[^1].Main <= revision)
        {
            for (int i = records.Length - 1; i >= 0; i--)
            {
                if (records[i].Main <= revision)
                {
                    return i;
                }
            }

            return -1;
        }

        // Bisection for the last record with Main <= revision (revisions ascend).
        int lo = 0, hi = records.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (records[mid].Main <= revision)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return found;
    }

    /// <summary>True when the key exists (is not deleted) at <paramref name="revision"/>.</summary>
    public bool IsLiveAt(long revision)
    {
        int index = IndexAt(revision);
        return index >= 0 && !Records[index].IsTombstone;
    }

    /// <summary>True when the key currently exists.</summary>
    public bool IsLive => !Latest.IsTombstone;

    /// <summary>The key as it was at <paramref name="revision"/>, or null when absent then.</summary>
    public KeyValue? ValueAt(long revision)
    {
        int index = IndexAt(revision);
        return index >= 0 && !Records[index].IsTombstone ? ToKeyValue(Records[index]) : null;
    }

    /// <summary>The protobuf form of one of this key's put records.</summary>
    public KeyValue ToKeyValue(in KeyRecord record) => new()
    {
        Key = Key,
        CreateRevision = record.CreateRevision,
        ModRevision = record.Main,
        Version = record.Version,
        Value = record.Value ?? ByteString.Empty,
        Lease = record.Lease,
    };

    /// <summary>
    /// The history after compacting at <paramref name="revision"/>: records older than the newest
    /// record ≤ revision are dropped, and that record too when it is a tombstone. Returns this
    /// instance when nothing changes and null when nothing is left.
    /// </summary>
    public KeyHistory? CompactAt(long revision, out int droppedCount)
    {
        int keepFrom = IndexAt(revision);
        if (keepFrom >= 0 && Records[keepFrom].IsTombstone)
        {
            keepFrom++;
        }

        droppedCount = Math.Max(keepFrom, 0);
        if (droppedCount == 0)
        {
            return this;
        }

        if (droppedCount == _count)
        {
            return null;
        }

        return new KeyHistory(Key, Records[droppedCount..].ToArray(), _count - droppedCount, null);
    }
}
