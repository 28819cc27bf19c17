using Google.Protobuf;

namespace Coordination.Server.Mvcc;

/// <summary>Orders keys the way etcd does: unsigned lexicographic comparison of the bytes.</summary>
internal static class KeyComparer
{
    /// <summary>Negative when <paramref name="left"/> sorts first, zero when equal, positive otherwise.</summary>
    public static int Compare(ByteString left, ByteString right) => left.Span.SequenceCompareTo(right.Span);

    /// <summary>Same as <see cref="Compare(ByteString, ByteString)"/> over raw spans.</summary>
    public static int Compare(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right) => left.SequenceCompareTo(right);
}
