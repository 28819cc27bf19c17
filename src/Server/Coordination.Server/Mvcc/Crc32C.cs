using System.Buffers.Binary;

namespace Coordination.Server.Mvcc;

/// <summary>
/// An incremental CRC-32C (Castagnoli) for hashing store contents field by field; the arithmetic
/// is <see cref="Storage.Crc32C"/>'s, shared with the write-ahead log and snapshots.
/// </summary>
internal struct Crc32C
{
    private uint _crc;

    /// <summary>Feeds <paramref name="data"/>.</summary>
    public void Append(ReadOnlySpan<byte> data) => _crc = Storage.Crc32C.Append(_crc, data);

    /// <summary>Feeds a 64-bit integer (little-endian).</summary>
    public void Append(long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        Append(bytes);
    }

    /// <summary>Feeds one byte.</summary>
    public void Append(byte value) => Append([value]);

    /// <summary>The checksum of everything fed so far.</summary>
    public readonly uint Result => _crc;

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Storage.Crc32C.Compute(data);
}
