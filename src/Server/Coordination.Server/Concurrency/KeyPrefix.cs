using System.Globalization;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Server.Concurrency;

/// <summary>
/// etcd's key layout for locks and elections: waiters of <c>name</c> own <c>name/&lt;lease id in
/// lower-case hex&gt;</c>; the owner (leader) is the key under <c>name/</c> with the smallest create revision.
/// </summary>
internal sealed class KeyPrefix
{
    private readonly ByteString _end;

    /// <summary>The prefix <c>name/</c>.</summary>
    public KeyPrefix(ByteString name)
    {
        Prefix = name.Concat("/"u8);
        _end = RangeEndOf(Prefix);
    }

    /// <summary><c>name/</c>.</summary>
    public ByteString Prefix { get; }

    /// <summary>The waiter key of a lease: <c>name/&lt;hex&gt;</c>.</summary>
    public ByteString KeyOf(long leaseId) => Prefix.Concat(System.Text.Encoding.ASCII.GetBytes(leaseId.ToString("x", CultureInfo.InvariantCulture)));

    /// <summary>The first-created key under the prefix (the owner), as a range.</summary>
    public RangeRequest FirstCreated() => new()
    {
        Key = Prefix, RangeEnd = _end, SortTarget = RangeRequest.Types.SortTarget.Create, SortOrder = RangeRequest.Types.SortOrder.Ascend, Limit = 1,
    };

    /// <summary>The last-created key under the prefix created at or before <paramref name="maxCreateRevision"/>.</summary>
    public RangeRequest LastCreatedUpTo(long maxCreateRevision) => new()
    {
        Key = Prefix, RangeEnd = _end, SortTarget = RangeRequest.Types.SortTarget.Create, SortOrder = RangeRequest.Types.SortOrder.Descend, Limit = 1,
        MaxCreateRevision = maxCreateRevision,
    };

    /// <summary>The range end of "every key starting with <paramref name="prefix"/>" (etcd's GetPrefixRangeEnd).</summary>
    public static ByteString RangeEndOf(ByteString prefix)
    {
        var bytes = prefix.ToByteArray();
        for (var i = bytes.Length - 1; i >= 0; i--)
        {
            if (bytes[i] < 0xff)
            {
                bytes[i]++;
                return ByteString.CopyFrom(bytes, 0, i + 1);
            }
        }
        return ByteString.CopyFrom(0); // all 0xff: to the end of the keyspace
    }
}

/// <summary>Small helpers on byte strings.</summary>
internal static class ByteStringExtensions
{
    /// <summary><paramref name="left"/> followed by <paramref name="right"/>.</summary>
    public static ByteString Concat(this ByteString left, ReadOnlySpan<byte> right)
    {
        var bytes = new byte[left.Length + right.Length];
        left.Span.CopyTo(bytes);
        right.CopyTo(bytes.AsSpan(left.Length));
        return ByteString.CopyFrom(bytes);
    }
}
