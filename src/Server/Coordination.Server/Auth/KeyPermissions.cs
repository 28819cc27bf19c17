using Authpb;
using Coordination.Server.Mvcc;
using Google.Protobuf;

namespace Coordination.Server.Auth;

/// <summary>
/// Whether a set of granted key permissions covers a requested key or range, as etcd decides it: a
/// single key must lie in a granted key or range; a range must be covered entirely by the union of
/// the granted ranges of the needed type (READWRITE counts as both).
/// </summary>
internal static class KeyPermissions
{
    private static readonly Comparer<ByteString> Order = Comparer<ByteString>.Create(KeyComparer.Compare);

    /// <summary>True when <paramref name="granted"/> allows <paramref name="needed"/> on [key, rangeEnd) (rangeEnd empty: the key alone; "\0": to the end).</summary>
    public static bool Covers(IEnumerable<Permission> granted, Permission.Types.Type needed, ByteString key, ByteString rangeEnd)
    {
        var intervals = granted
            .Where(p => p.PermType == needed || p.PermType == Permission.Types.Type.Readwrite)
            .Select(p => Interval(p.Key, p.RangeEnd))
            .OrderBy(i => i.Start, Order)
            .ToList();
        var (start, end) = Interval(key, rangeEnd);

        // Walk the sorted intervals, extending the covered prefix from start until it reaches end.
        var covered = start;
        foreach (var (s, e) in intervals)
        {
            if (KeyComparer.Compare(s, covered) > 0) break;
            if (e is null) return true;
            if (KeyComparer.Compare(e, covered) > 0) covered = e;
            if (end is not null && KeyComparer.Compare(covered, end) >= 0) return true;
        }
        return end is not null && KeyComparer.Compare(covered, end) >= 0;
    }

    /// <summary>The half-open interval a key/range_end pair names; a null end is unbounded.</summary>
    private static (ByteString Start, ByteString? End) Interval(ByteString key, ByteString rangeEnd)
    {
        if (rangeEnd.IsEmpty) return (key, ByteString.CopyFrom([.. key.Span, 0]));
        if (rangeEnd.Length == 1 && rangeEnd[0] == 0) return (key, null);
        return (key, rangeEnd);
    }
}
