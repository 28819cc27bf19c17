namespace Coordination.Server.Storage.Snapshots;

/// <summary>A write-only stream that forwards to a file while keeping a running CRC32C and length.</summary>
internal sealed class ChecksummingStream(Stream inner, uint crc) : Stream
{
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
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
