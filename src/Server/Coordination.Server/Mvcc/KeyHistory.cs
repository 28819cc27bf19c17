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
    private readonly KeyRecord[] _records;

    private KeyHistory(ByteString key, KeyRecord[] records)
    {
        Key = key;
        _records = records;
    }

    /// <summary>The key.</summary>
    public ByteString Key { get; }

    /// <summary>The records, oldest first; never empty.</summary>
    public ReadOnlySpan<KeyRecord> Records => _records;

    /// <summary>The newest record.</summary>
    public ref readonly KeyRecord Latest => ref _records[^1];

    /// <summary>A history holding one record.</summary>
    public static KeyHistory Create(ByteString key, in KeyRecord record) => new(key, [record]);

    /// <summary>Builds a history from records already in ascending revision order (image restore).</summary>
    public static KeyHistory FromRecords(ByteString key, KeyRecord[] records)
    {
        if (records.Length == 0)
        {
            throw new ArgumentException("A key history needs at least one record.", nameof(records));
        }

        return new KeyHistory(key, records);
    }

    /// <summary>A new history with <paramref name="record"/> appended (it must be the newest).</summary>
    public KeyHistory Append(in KeyRecord record)
    {
        var records = new KeyRecord[_records.Length + 1];
        _records.CopyTo(records, 0);
        records[^1] = record;
        return new KeyHistory(Key, records);
    }

    /// <summary>
    /// Index of the newest record whose main revision is ≤ <paramref name="revision"/>, or -1
    /// when the key had no record yet at that revision.
    /// </summary>
    public int IndexAt(long revision)
    {
        // Histories are short in the common case; scan from the newest end.
        for (int i = _records.Length - 1; i >= 0; i--)
        {
            if (_records[i].Main <= revision)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>True when the key exists (is not deleted) at <paramref name="revision"/>.</summary>
    public bool IsLiveAt(long revision)
    {
        int index = IndexAt(revision);
        return index >= 0 && !_records[index].IsTombstone;
    }

    /// <summary>True when the key currently exists.</summary>
    public bool IsLive => !Latest.IsTombstone;

    /// <summary>The key as it was at <paramref name="revision"/>, or null when absent then.</summary>
    public KeyValue? ValueAt(long revision)
    {
        int index = IndexAt(revision);
        return index >= 0 && !_records[index].IsTombstone ? ToKeyValue(_records[index]) : null;
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
        if (keepFrom >= 0 && _records[keepFrom].IsTombstone)
        {
            keepFrom++;
        }

        droppedCount = Math.Max(keepFrom, 0);
        if (droppedCount == 0)
        {
            return this;
        }

        if (droppedCount == _records.Length)
        {
            return null;
        }

        return new KeyHistory(Key, _records[droppedCount..]);
    }
}
