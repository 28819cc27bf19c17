using System.Buffers;

namespace Coordination.Server.Hosting.Http2;

/// <summary>A growable byte buffer backed by <see cref="ArrayPool{T}.Shared"/>; reused across header blocks.</summary>
internal sealed class PooledByteBuffer : IDisposable
{
    private const int RetainLimit = 64 * 1024;
    private byte[] _array;
    private int _length;

    /// <summary>Creates a buffer with room for at least <paramref name="initialCapacity"/> bytes.</summary>
    public PooledByteBuffer(int initialCapacity = 256) => _array = ArrayPool<byte>.Shared.Rent(initialCapacity);

    /// <summary>Number of bytes written.</summary>
    public int Length => _length;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, _length);

    /// <summary>Returns a span of at least <paramref name="size"/> free bytes; follow with <see cref="Advance"/>.</summary>
    public Span<byte> GetSpan(int size)
    {
        if (_array.Length - _length < size) Grow(size);
        return _array.AsSpan(_length);
    }

    /// <summary>Marks <paramref name="count"/> bytes of the last <see cref="GetSpan"/> as written.</summary>
    public void Advance(int count) => _length += count;

    /// <summary>Appends bytes.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _length += bytes.Length;
    }

    /// <summary>Appends one byte.</summary>
    public void WriteByte(byte value)
    {
        GetSpan(1)[0] = value;
        _length++;
    }

    /// <summary>Appends a sequence.</summary>
    public void Write(in ReadOnlySequence<byte> bytes)
    {
        var span = GetSpan(checked((int)bytes.Length));
        bytes.CopyTo(span);
        _length += (int)bytes.Length;
    }

    /// <summary>Forgets the contents; an unusually large array goes back to the pool.</summary>
    public void Clear()
    {
        _length = 0;
        if (_array.Length > RetainLimit)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = ArrayPool<byte>.Shared.Rent(256);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        var array = _array;
        _array = [];
        _length = 0;
        if (array.Length > 0) ArrayPool<byte>.Shared.Return(array);
    }

    private void Grow(int size)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_array.Length * 2, _length + size));
        _array.AsSpan(0, _length).CopyTo(bigger);
        if (_array.Length > 0) ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }
}
