namespace Coordination.Server.Storage.Wal;

/// <summary>Tuning of the <see cref="WriteAheadLog"/>.</summary>
internal sealed class WalOptions
{
    /// <summary>A segment is closed and a new one started once it reaches this size (default 64 MiB).
    /// The check happens before each <see cref="WriteAheadLog.Append"/>, so a segment may exceed the
    /// threshold by one batch.</summary>
    public long SegmentSizeBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// Reserve <see cref="SegmentSizeBytes"/> of disk space when a segment is created (default true).
    /// Uses the <c>preallocationSize</c> of <see cref="File.OpenHandle"/>, which on Linux is
    /// <c>fallocate(FALLOC_FL_KEEP_SIZE)</c>: blocks are reserved but the file length stays at what was
    /// written, so running out of space surfaces when a segment is cut rather than in the middle of a
    /// write, and readers never see preallocated zeros (they are handled anyway).
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
