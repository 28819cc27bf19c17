using Google.Protobuf;

namespace Coordination.Server.Mvcc;

/// <summary>
/// A key interval in etcd's request encoding, already decoded: a single key, a half-open
/// interval <c>[Start, End)</c>, or every key from <see cref="Start"/> on (<see cref="End"/> null
/// and <see cref="IsSingleKey"/> false).
/// </summary>
internal readonly struct KeyRange
{
    private KeyRange(ByteString start, ByteString? end, bool isSingleKey)
    {
        Start = start;
        End = end;
        IsSingleKey = isSingleKey;
    }

    /// <summary>The first key of the interval (inclusive).</summary>
    public ByteString Start { get; }

    /// <summary>The exclusive upper bound, or null when the interval is a single key or unbounded.</summary>
    public ByteString? End { get; }

    /// <summary>True when the interval holds exactly <see cref="Start"/>.</summary>
    public bool IsSingleKey { get; }

    /// <summary>Every key.</summary>
    public static KeyRange All => new(ByteString.Empty, null, false);

    /// <summary>A single-key range.</summary>
    public static KeyRange Single(ByteString key) => new(key, null, true);

    /// <summary>
    /// Decodes etcd's (key, range_end) pair: an empty <paramref name="rangeEnd"/> means the single
    /// key; <c>"\0"</c> means every key ≥ <paramref name="key"/> (so key <c>"\0"</c> with range_end
    /// <c>"\0"</c> is the whole keyspace); anything else is the interval <c>[key, rangeEnd)</c>.
    /// </summary>
    public static KeyRange FromRequest(ByteString key, ByteString rangeEnd)
    {
        if (rangeEnd.IsEmpty)
        {
            return new KeyRange(key, null, true);
        }

        if (rangeEnd.Length == 1 && rangeEnd[0] == 0)
        {
            return new KeyRange(key, null, false);
        }

        return new KeyRange(key, rangeEnd, false);
    }

    /// <summary>True when <paramref name="key"/> lies inside the interval.</summary>
    public bool Contains(ByteString key)
    {
        int fromStart = KeyComparer.Compare(key, Start);
        if (IsSingleKey)
        {
            return fromStart == 0;
        }

        return fromStart >= 0 && (End is null || KeyComparer.Compare(key, End) < 0);
    }

    /// <summary>True when <paramref name="key"/> is at or beyond the interval's upper bound.</summary>
    public bool IsPastEnd(ByteString key)
    {
        if (IsSingleKey)
        {
            return KeyComparer.Compare(key, Start) > 0;
        }

        return End is not null && KeyComparer.Compare(key, End) >= 0;
    }
}
