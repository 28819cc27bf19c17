namespace Coordination.Server.Storage.Wal;

/// <summary>Tuning of the <see cref="WriteAheadLog"/>.</summary>
internal sealed class WalOptions
{
    /// <summary>A segment is closed and a new one started once it reaches this size (default 64 MiB).
    /// The check happens before each <see cref="WriteAheadLog.Append"/>, so a segment may exceed the
    /// threshold by one batch.</summary>
    public long SegmentSizeBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// Create every segment at its full size, written with zeros and fsynced ahead of need by a
    /// <see cref="SegmentPreparer"/> (default true): running out of space surfaces when a file is
    /// prepared rather than in the middle of a write, and an fsync after an append flushes data
    /// only, no file-system metadata. Readers take the zeros after the last record as unused space.
    /// When false, segments grow with each write (tests use this for small, exact files).
    /// </summary>
    public bool PreallocateSegments { get; init; } = true;

    /// <summary>Appended records are written to the file (without fsync) once this many bytes are
    /// buffered, bounding memory for large batches (default 1 MiB).</summary>
    public int WriteBufferBytes { get; init; } = 1024 * 1024;

    /// <summary>Throws when an option is out of range.</summary>
    public void Validate()
    {
        if (SegmentSizeBytes < 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(SegmentSizeBytes), SegmentSizeBytes, "Segment size must be at least 4096 bytes.");
        }

        if (WriteBufferBytes < 4096)
        {
            throw new ArgumentOutOfRangeException(nameof(WriteBufferBytes), WriteBufferBytes, "Write buffer must be at least 4096 bytes.");
        }
    }
}
