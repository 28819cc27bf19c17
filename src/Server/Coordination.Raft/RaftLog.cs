using System;
using System.Collections.Generic;
using Coordination.Raft.Protocol;

namespace Coordination.Raft;

/// <summary>
/// The core's view of the log: the entries after <see cref="OffsetIndex"/> (the last index covered
/// by a snapshot or released from memory) kept in memory, split into a stable prefix (persisted by
/// the host, up to <see cref="StableIndex"/>) and an unstable tail. A snapshot received from a
/// leader replaces the whole log and waits in <see cref="PendingSnapshot"/> until the host has
/// persisted it.
/// </summary>
/// <remarks>Invariants: OffsetIndex ≤ StableIndex ≤ LastIndex, and HandedOutIndex ≤ LastIndex.</remarks>
internal sealed class RaftLog
{
    private readonly List<Entry> _entries = new();

    public RaftLog(ulong offsetIndex, ulong offsetTerm, IReadOnlyList<Entry> persisted)
    {
        OffsetIndex = offsetIndex;
        OffsetTerm = offsetTerm;
        foreach (var e in persisted)
        {
            if (e.Index <= offsetIndex) continue;
            if (e.Index != LastIndex + 1)
                throw new ArgumentException($"raft: persisted log has a gap before index {e.Index}");
            _entries.Add(e);
        }
        StableIndex = LastIndex;
        HandedOutIndex = LastIndex;
    }

    /// <summary>Index of the last entry released from memory (or of the snapshot the log starts after).</summary>
    public ulong OffsetIndex { get; private set; }

    /// <summary>Term of the entry at <see cref="OffsetIndex"/>.</summary>
    public ulong OffsetTerm { get; private set; }

    /// <summary>Index of the last entry the host has persisted.</summary>
    public ulong StableIndex { get; private set; }

    /// <summary>Index of the last entry handed out for persistence.</summary>
    public ulong HandedOutIndex { get; private set; }

    /// <summary>A snapshot from the leader that replaced the log and is not yet persisted by the host.</summary>
    public Snapshot? PendingSnapshot { get; private set; }

    /// <summary>True once <see cref="PendingSnapshot"/> was handed to the host.</summary>
    public bool PendingSnapshotHandedOut { get; private set; }

    /// <summary>Index of the last entry in the log.</summary>
    public ulong LastIndex => OffsetIndex + (ulong)_entries.Count;

    /// <summary>Term of the last entry in the log.</summary>
    public ulong LastTerm => _entries.Count == 0 ? OffsetTerm : _entries[^1].Term;

    /// <summary>True when the log has unstable entries not yet handed to the host.</summary>
    public bool HasUnhandedEntries => LastIndex > Math.Max(HandedOutIndex, StableIndex);

    /// <summary>The term at <paramref name="index"/>; false when it was released or lies beyond the log.</summary>
    public bool TryTerm(ulong index, out ulong term)
    {
        term = 0;
        if (index == OffsetIndex) { term = OffsetTerm; return true; }
        if (index < OffsetIndex || index > LastIndex) return false;
        term = _entries[(int)(index - OffsetIndex - 1)].Term;
        return true;
    }

    /// <summary>Term of the entry at <paramref name="index"/>; throws when it is not in memory.</summary>
    public ulong Term(ulong index) =>
        TryTerm(index, out var t) ? t
            : throw new ArgumentOutOfRangeException(nameof(index), $"raft: no term for index {index} (log holds {OffsetIndex}..{LastIndex})");

    /// <summary>True when the log holds an entry at <paramref name="index"/> with <paramref name="term"/>.</summary>
    public bool MatchTerm(ulong index, ulong term) => TryTerm(index, out var t) && t == term;

    /// <summary>Raft's "at least as up to date" comparison of a candidate's last entry with ours (§5.4.1).</summary>
    public bool IsUpToDate(ulong lastIndex, ulong lastTerm) =>
        lastTerm > LastTerm || (lastTerm == LastTerm && lastIndex >= LastIndex);

    /// <summary>Appends one entry at the end of the log.</summary>
    public void Append(Entry entry)
    {
        if (entry.Index != LastIndex + 1) throw new ArgumentException($"raft: appending index {entry.Index} after {LastIndex}");
        _entries.Add(entry);
    }

    /// <summary>
    /// Follower side of an append: when our log matches the leader's at (<paramref name="prevIndex"/>,
    /// <paramref name="prevTerm"/>), drops our entries that conflict with <paramref name="entries"/>
    /// and appends the rest. Returns the index of the last entry the message covered, or null on mismatch.
    /// </summary>
    public ulong? MaybeAppend(ulong prevIndex, ulong prevTerm, IReadOnlyList<Entry> entries, ulong committed)
    {
        if (!MatchTerm(prevIndex, prevTerm)) return null;
        var lastNew = prevIndex + (ulong)entries.Count;
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (MatchTerm(e.Index, e.Term)) continue;
            if (e.Index <= committed)
                throw new InvalidOperationException($"raft: entry {e.Index} conflicts with the committed prefix (committed {committed})");
            TruncateFrom(e.Index);
            for (var j = i; j < entries.Count; j++) _entries.Add(entries[j]);
            break;
        }
        return lastNew;
    }

    /// <summary>
    /// The largest index ≤ <paramref name="index"/> whose term is ≤ <paramref name="term"/>: where a
    /// probe should continue after a rejection, skipping a whole term of conflicting entries at once.
    /// </summary>
    public ulong FindConflictByTerm(ulong index, ulong term)
    {
        index = Math.Min(index, LastIndex);
        while (index > OffsetIndex)
        {
            if (Term(index) <= term) return index;
            index--;
        }
        return index;
    }

    /// <summary>Entries after <see cref="HandedOutIndex"/>: what the host must persist next.</summary>
    public IReadOnlyList<Entry> TakeUnhanded()
    {
        var from = Math.Max(HandedOutIndex, StableIndex);
        if (from >= LastIndex)
        {
            HandedOutIndex = LastIndex;
            return [];
        }
        var list = Slice(from + 1, LastIndex, long.MaxValue);
        HandedOutIndex = LastIndex;
        return list;
    }

    /// <summary>Entries in [lo, hi] (which must be in memory), at most about <paramref name="maxBytes"/> but at least one.</summary>
    public List<Entry> Slice(ulong lo, ulong hi, long maxBytes)
    {
        var list = new List<Entry>(hi >= lo ? (int)Math.Min(hi - lo + 1, 1024) : 0);
        SliceInto(list, lo, hi, maxBytes);
        return list;
    }

    /// <summary>Adds the entries of <see cref="Slice"/> to <paramref name="into"/> (an outgoing message's list); returns how many.</summary>
    public int SliceInto(ICollection<Entry> into, ulong lo, ulong hi, long maxBytes)
    {
        long size = 0;
        var count = 0;
        for (var i = lo; i <= hi; i++)
        {
            var e = At(i);
            size += e.Data.Length + 16;
            if (count > 0 && size > maxBytes) break;
            into.Add(e);
            count++;
        }
        return count;
    }

    /// <summary>The entry at <paramref name="index"/>, which must be in memory.</summary>
    public Entry At(ulong index)
    {
        if (index <= OffsetIndex) throw new InvalidOperationException($"raft: entry {index} was released from memory");
        return _entries[(int)(index - OffsetIndex - 1)];
    }

    /// <summary>Marks entries up to <paramref name="index"/> as persisted, if the entry there still has <paramref name="term"/>.</summary>
    public void StableTo(ulong index, ulong term)
    {
        // A later append may have replaced the entry since it was handed out; then it is not stable.
        if (index > StableIndex && MatchTerm(index, term)) StableIndex = index;
    }

    /// <summary>Replaces the whole log with a snapshot from the leader.</summary>
    public void Restore(Snapshot snapshot)
    {
        _entries.Clear();
        OffsetIndex = snapshot.Metadata.Index;
        OffsetTerm = snapshot.Metadata.Term;
        StableIndex = OffsetIndex;
        HandedOutIndex = OffsetIndex;
        PendingSnapshot = snapshot;
        PendingSnapshotHandedOut = false;
    }

    /// <summary>Marks <see cref="PendingSnapshot"/> handed to the host.</summary>
    public void MarkSnapshotHandedOut() => PendingSnapshotHandedOut = true;

    /// <summary>The host persisted the pending snapshot at <paramref name="index"/>.</summary>
    public void SnapshotStable(ulong index)
    {
        if (PendingSnapshot is not null && PendingSnapshot.Metadata.Index == index) PendingSnapshot = null;
    }

    /// <summary>Releases from memory the entries up to <paramref name="index"/> (they must be stable).</summary>
    public void ReleaseTo(ulong index)
    {
        index = Math.Min(index, StableIndex);
        if (index <= OffsetIndex) return;
        var count = (int)(index - OffsetIndex);
        OffsetTerm = _entries[count - 1].Term;
        _entries.RemoveRange(0, count);
        OffsetIndex = index;
    }

    private void TruncateFrom(ulong index)
    {
        var keep = (int)(index - OffsetIndex - 1);
        _entries.RemoveRange(keep, _entries.Count - keep);
        StableIndex = Math.Min(StableIndex, index - 1);
        HandedOutIndex = Math.Min(HandedOutIndex, index - 1);
    }
}
