namespace Coordination.Server.Storage.Wal;

/// <summary>
/// The write-ahead log is damaged somewhere other than its unsynced tail (or is inconsistent), so
/// acknowledged data may be lost. The server must not start; the message names the file and offset.
/// </summary>
internal sealed class WalCorruptedException : Exception
{
    public WalCorruptedException(string filePath, long offset, string reason)
        : base($"WAL corrupted: {reason} in '{filePath}' at offset {offset}. Refusing to open; restore this member from a peer or a backup.")
    {
        FilePath = filePath;
        Offset = offset;
    }

    /// <summary>The segment file holding the damage.</summary>
    public string FilePath { get; }

    /// <summary>Byte offset in <see cref="FilePath"/> of the first damaged record.</summary>
    public long Offset { get; }
}
