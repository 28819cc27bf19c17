namespace Coordination.Server.Storage.Snapshots;

/// <summary>
/// A write-only stream that forwards to a snapshot file while keeping a running CRC32C and length,
/// and flushes the file to disk after every <paramref name="syncEvery"/> bytes: a large image then
/// reaches the disk in steps instead of one burst at the end, which would queue the write-ahead
/// log's fsyncs behind it. After each chunk it lets <paramref name="pacer"/>, when given, rest the
/// writing thread.
/// </summary>
internal sealed class ChecksummingStream(FileStream inner, uint crc, long syncEvery, WritePacer? pacer = null) : Stream
{
    private long _synced;

    /// <summary>The CRC32C of everything before this stream, then of everything written to it.</summary>
    public uint Crc { get; private set; } = crc;

    /// <summary>Bytes written through this stream.</summary>
    public long Written { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => Written;

    public override long Position
    {
        get => Written;
        set => throw new NotSupportedException();
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Crc = Crc32C.Append(Crc, buffer);
        Written += buffer.Length;
        inner.Write(buffer);
        if (Written - _synced >= syncEvery)
        {
            inner.Flush(flushToDisk: true);
            _synced = Written;
        }
        pacer?.Pace();
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
