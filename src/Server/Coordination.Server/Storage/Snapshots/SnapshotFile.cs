using Coordination.Raft.Protocol;

namespace Coordination.Server.Storage.Snapshots;

/// <summary>
/// A verified snapshot file on disk: its metadata and where its state image lies in the file. The
/// image is read on demand with <see cref="OpenImage"/>, so large images are never held in memory
/// unless the caller asks for <see cref="ReadImage"/>.
/// </summary>
internal sealed class SnapshotFile
{
    public SnapshotFile(string path, SnapshotMetadata metadata, long imageOffset, long imageLength)
    {
        Path = path;
        Metadata = metadata;
        ImageOffset = imageOffset;
        ImageLength = imageLength;
    }

    /// <summary>Full path of the <c>.snap</c> file.</summary>
    public string Path { get; }

    /// <summary>Index, term and configuration the snapshot covers.</summary>
    public SnapshotMetadata Metadata { get; }

    /// <summary>Offset of the state image within the file.</summary>
    public long ImageOffset { get; }

    /// <summary>Length of the state image in bytes.</summary>
    public long ImageLength { get; }

    /// <summary>Opens a read-only stream over exactly the state image.</summary>
    public Stream OpenImage()
    {
        var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        try
        {
            return new SubStream(file, ImageOffset, ImageLength);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads the whole state image into memory (for small images and tests).</summary>
    public byte[] ReadImage()
    {
        if (ImageLength > Array.MaxLength)
        {
            throw new InvalidOperationException($"The snapshot image of {ImageLength} bytes does not fit in an array; use OpenImage.");
        }

        byte[] image = new byte[ImageLength];
        using Stream stream = OpenImage();
        stream.ReadExactly(image);
        return image;
    }

    /// <summary>A read-only window [offset, offset + length) over a file stream it owns.</summary>
    private sealed class SubStream : Stream
    {
        private readonly FileStream _file;
        private readonly long _offset;
        private readonly long _length;
        private long _position;

        public SubStream(FileStream file, long offset, long length)
        {
            _file = file;
            _offset = offset;
            _length = length;
            _file.Position = offset;
        }

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => _length;

        public override long Position
        {
            get => _position;
            set
            {
                ArgumentOutOfRangeException.ThrowIfNegative(value);
                _position = value;
                _file.Position = _offset + Math.Min(value, _length);
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            long remaining = _length - _position;
            if (remaining <= 0)
            {
                return 0;
            }

            if (buffer.Length > remaining)
            {
                buffer = buffer[..(int)remaining];
            }

            int n = _file.Read(buffer);
            _position += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            long remaining = _length - _position;
            if (remaining <= 0)
            {
                return 0;
            }

            if (buffer.Length > remaining)
            {
                buffer = buffer[..(int)remaining];
            }

            int n = await _file.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin)
        {
            Position = origin switch
            {
                SeekOrigin.Begin => offset,
                SeekOrigin.Current => _position + offset,
                SeekOrigin.End => _length + offset,
                _ => throw new ArgumentOutOfRangeException(nameof(origin)),
            };
            return _position;
        }

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _file.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
