using Coordination.Server.Errors;
using Mvccpb;

namespace Coordination.Server.Mvcc;

/// <summary>
/// Reads the changes of a key range between two revisions from a tree root (a watcher's catch-up,
/// etcd's rangeEvents over the backend's revision index).
/// </summary>
internal static class MvccHistory
{
    /// <summary>
    /// The events on keys of <paramref name="range"/> with main revision in
    /// [<paramref name="from"/>, <paramref name="to"/>], in revision order. A revision is never
    /// split: once <paramref name="maxEvents"/> events or <paramref name="maxBytes"/> bytes of keys
    /// and values would be passed, the batch ends at the last whole revision (but always holds at
    /// least one whole revision when there is one).
    /// </summary>
    public static MvccHistoryBatch Read(MvccReadView view, in KeyRange range, long from, long to, int maxEvents, long maxBytes = long.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvents, 1);
        if (from < view.CompactRevision)
        {
            throw EtcdErrors.Compacted.ToException();
        }

        to = Math.Min(to, view.Revision);
        if (from > to)
        {
            return new MvccHistoryBatch([], [], from);
        }

        var found = new List<(KeyHistory History, int Index)>();
        PersistentBTree.Scan(view.Root, range, history =>
        {
            ReadOnlySpan<KeyRecord> records = history.Records;
            for (int i = records.Length - 1; i >= 0 && records[i].Main >= from; i--)
            {
                if (records[i].Main <= to)
                {
                    found.Add((history, i));
                }
            }

            return true;
        });

        found.Sort(static (a, b) => a.History.Records[a.Index].Revision.CompareTo(b.History.Records[b.Index].Revision));
        int take = Cut(found, maxEvents, maxBytes);
        long next = take < found.Count ? found[take].History.Records[found[take].Index].Main : to + 1;

        var events = new Event[take];
        var previous = new KeyValue?[take];
        for (int i = 0; i < take; i++)
        {
            (KeyHistory history, int index) = found[i];
            ref readonly KeyRecord record = ref history.Records[index];
            events[i] = record.IsTombstone
                ? new Event { Type = Event.Types.EventType.Delete, Kv = new KeyValue { Key = history.Key, ModRevision = record.Main } }
                : new Event { Type = Event.Types.EventType.Put, Kv = history.ToKeyValue(record) };
            previous[i] = PreviousOf(history, index);
        }

        return new MvccHistoryBatch(events, previous, next);
    }

    /// <summary>How many of the sorted records to take: whole revisions, within the limits, at least one revision.</summary>
    private static int Cut(List<(KeyHistory History, int Index)> found, int maxEvents, long maxBytes)
    {
        int take = 0;
        long bytes = 0;
        while (take < found.Count)
        {
            // The next whole revision: [take, end).
            long revision = found[take].History.Records[found[take].Index].Main;
            int end = take;
            long revisionBytes = 0;
            while (end < found.Count && found[end].History.Records[found[end].Index].Main == revision)
            {
                revisionBytes += found[end].History.Key.Length + (found[end].History.Records[found[end].Index].Value?.Length ?? 0);
                end++;
            }

            if (take > 0 && (end > maxEvents || bytes + revisionBytes > maxBytes))
            {
                break;
            }

            take = end;
            bytes += revisionBytes;
        }

        return take;
    }

    private static KeyValue? PreviousOf(KeyHistory history, int index)
    {
        // The record before is the key's version at (this revision - 1) unless it was a deletion;
        // a first kept record has no predecessor (never existed, or compacted away).
        if (index == 0)
        {
            return null;
        }

        ref readonly KeyRecord before = ref history.Records[index - 1];
        return before.IsTombstone ? null : history.ToKeyValue(before);
    }
}
