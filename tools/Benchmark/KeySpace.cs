using System.Buffers.Binary;
using Google.Protobuf;

namespace Coordination.Benchmark;

/// <summary>
/// Keys of a fixed size: key <c>i</c> is <c>i</c> big-endian in the last bytes, zero-padded in front. Keys are
/// pre-generated as <see cref="ByteString"/>s when the key space is small enough, so the hot loop does not allocate.
/// </summary>
internal sealed class KeySpace
{
    private const long MaxPregenerated = 1L << 21;

    private readonly int _keySize;
    private readonly long _size;
    private readonly bool _sequential;
    private readonly ByteString[]? _keys;

    public KeySpace(int keySize, long size, bool sequential, long total)
    {
        _keySize = keySize;
        _size = size;
        _sequential = sequential;
        if (keySize < 8 && size > 1L << (8 * keySize))
        {
            throw new FormatException($"--key-size {keySize} cannot hold {size} distinct keys");
        }

        // Sequential runs touch only the first min(size, total) keys.
        var needed = sequential ? Math.Min(size, total) : size;
        if (needed <= MaxPregenerated)
        {
            _keys = new ByteString[needed];
            for (var i = 0; i < needed; i++)
            {
                _keys[i] = Make(i);
            }
        }
    }

    /// <summary>The key for request number <paramref name="sequence"/>: the next one, or a random one.</summary>
    public ByteString KeyFor(long sequence)
    {
        var index = _sequential ? sequence % _size : (_size == 1 ? 0 : Random.Shared.NextInt64(_size));
        return _keys is not null && index < _keys.Length ? _keys[index] : Make(index);
    }

    public static ByteString RandomValue(int size)
    {
        var bytes = new byte[size];
        Random.Shared.NextBytes(bytes);
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    private ByteString Make(long index)
    {
        var bytes = new byte[_keySize];
        Span<byte> be = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(be, index);
        var n = Math.Min(8, _keySize);
        be[(8 - n)..].CopyTo(bytes.AsSpan(_keySize - n));
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }
}
