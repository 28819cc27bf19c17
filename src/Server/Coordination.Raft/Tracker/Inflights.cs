using System;

namespace Coordination.Raft.Tracker;

/// <summary>
/// Flow control towards one follower: the last index of each append message sent but not yet
/// acknowledged, oldest first, in a ring buffer of fixed capacity. When it is full the leader
/// stops sending entries until acknowledgements free a slot.
/// </summary>
internal sealed class Inflights
{
    private readonly ulong[] _buffer;
    private int _start;

    public Inflights(int capacity)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity), "raft: in-flight capacity must be positive");
        _buffer = new ulong[capacity];
    }

    /// <summary>Number of messages in flight.</summary>
    public int Count { get; private set; }

    /// <summary>True when no more messages may be sent.</summary>
    public bool Full => Count == _buffer.Length;

    /// <summary>Records a message whose last entry is <paramref name="lastIndex"/> (indexes must increase).</summary>
    public void Add(ulong lastIndex)
    {
        if (Full) throw new InvalidOperationException("raft: cannot add to full in-flights");
        _buffer[(_start + Count) % _buffer.Length] = lastIndex;
        Count++;
    }

    /// <summary>Frees every message whose last index is at most <paramref name="index"/> (acknowledged).</summary>
    public void FreeLE(ulong index)
    {
        while (Count > 0 && _buffer[_start] <= index)
        {
            _start = (_start + 1) % _buffer.Length;
            Count--;
        }
    }

    /// <summary>Frees the oldest message (presumed lost) so one more may be sent.</summary>
    public void FreeFirstOne()
    {
        if (Count == 0) return;
        _start = (_start + 1) % _buffer.Length;
        Count--;
    }

    /// <summary>Forgets every message in flight.</summary>
    public void Reset()
    {
        Count = 0;
        _start = 0;
    }
}
