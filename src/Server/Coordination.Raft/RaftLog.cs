using System;
using System.Collections.Generic;
using Coordination.Raft.Protocol;

namespace Coordination.Raft;

/// <summary>
/// The core's view of the log: entries after <see cref="OffsetIndex"/> kept in memory, split into a
/// stable prefix (persisted by the host) and an unstable tail (not yet handed out for persistence or
/// not yet acknowledged by <see cref="RaftNode.Advance"/>). Entries that are both stable and applied
/// are released from memory; the host's write-ahead log keeps them.
/// </summary>
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
            if (e.Index != OffsetIndex + (ulong)_entries.Count + 1)
                throw new ArgumentException($"raft: persisted log has a gap before index {e.Index}");
            _entries.Add(e);
        }
        StableIndex = LastIndex;
    }

    /// <summary>Index of the last entry released from memory (or of the snapshot the log starts after).</summary>
    public ulong OffsetIndex { get; private set; }

    /// <summary>Term of the entry at <see cref="OffsetIndex"/>.</summary>
    public ulong OffsetTerm { get; private set; }

    /// <summary>Index of the last entry the host has persisted.</summary>
    public ulong StableIndex { get; private set; }

    /// <summary>Index of the last entry handed out for persistence (≥ <see cref="StableIndex"/>).</summary>
    public ulong HandedOutIndex { get; private set; }

    /// <summary>Index of the last entry in the log.</summary>
    public ulong LastIndex => OffsetIndex + (ulong)_entries.Count;

    /// <summary>Term of the last entry in the log.</summary>
    public ulong LastTerm => _entries.Count == 0 ? OffsetTerm : _entries[^1].Term;

    /// <summary>Term of the entry at <paramref name="index"/>; throws when it was released.</summary>
    public ulong Term(ulong index)
    {
        if (index == OffsetIndex) return OffsetTerm;
        if (index < OffsetIndex || index > LastIndex)
            throw new ArgumentOutOfRangeException(nameof(index), $"raft: no term for index {index} (log holds {OffsetIndex}..{LastIndex})");
        return _entries[(int)(index - OffsetIndex - 1)].Term;
    }

    /// <summary>Appends one entry at the end of the log.</summary>
    public void Append(Entry entry)
    {
        if (entry.Index != LastIndex + 1) throw new ArgumentException($"raft: appending index {entry.Index} after {LastIndex}");
        _entries.Add(entry);
    }

    /// <summary>Entries after <see cref="HandedOutIndex"/>: what the host must persist next.</summary>
    public List<Entry> TakeUnstable()
    {
        var from = Math.Max(HandedOutIndex, StableIndex);
        var list = Slice(from + 1, LastIndex);
        HandedOutIndex = LastIndex;
        return list;
    }

    /// <summary>Entries in [lo, hi], which must still be in memory.</summary>
    public List<Entry> Slice(ulong lo, ulong hi)
    {
        var list = new List<Entry>(hi >= lo ? (int)(hi - lo + 1) : 0);
        for (var i = lo; i <= hi; i++)
        {
            if (i <= OffsetIndex) throw new InvalidOperationException($"raft: entry {i} was released from memory");
            list.Add(_entries[(int)(i - OffsetIndex - 1)]);
        }
        return list;
    }

    /// <summary>Marks entries up to <paramref name="index"/> as persisted by the host.</summary>
    public void StableTo(ulong index)
    {
        if (index > StableIndex && index <= LastIndex) StableIndex = index;
    }

    /// <summary>Releases from memory the entries up to <paramref name="index"/> (stable and applied).</summary>
    public void ReleaseTo(ulong index)
    {
        index = Math.Min(index, StableIndex);
        if (index <= OffsetIndex) return;
        var count = (int)(index - OffsetIndex);
        OffsetTerm = _entries[count - 1].Term;
        _entries.RemoveRange(0, count);
        OffsetIndex = index;
    }
}
