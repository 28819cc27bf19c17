using Google.Protobuf;

namespace Coordination.Server.Mvcc;

/// <summary>How <see cref="MvccReadView.ApproximateSizeBytes"/> charges each kept record.</summary>
internal static class MvccSize
{
    /// <summary>Fixed charge per record for revision, metadata and index overhead.</summary>
    public const long RecordOverhead = 64;

    /// <summary>The charge for one record of <paramref name="key"/>.</summary>
    public static long Of(ByteString key, in KeyRecord record) =>
        RecordOverhead + key.Length + (record.Value?.Length ?? 0);
}
