using System.Buffers.Binary;
using System.Numerics;

namespace Coordination.Server.Mvcc;

/// <summary>
/// Incremental CRC-32C (Castagnoli) using the hardware instruction through
/// <see cref="BitOperations.Crc32C(uint, ulong)"/>, eight bytes at a time.
/// </summary>
internal struct Crc32C
{
    private uint _state;
    private bool _started;

    /// <summary>Feeds <paramref name="data"/>.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        uint crc = Current();
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        _state = crc;
    }

    /// <summary>Feeds a 64-bit integer (little-endian).</summary>
    public void Append(long value)
    {
        _state = BitOperations.Crc32C(Current(), (ulong)value);
    }

    /// <summary>Feeds one byte.</summary>
    public void Append(byte value)
    {
        _state = BitOperations.Crc32C(Current(), value);
    }

    /// <summary>The checksum of everything fed so far.</summary>
    public readonly uint Result => ~(_started ? _state : uint.MaxValue);

    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data)
    {
        var crc = default(Crc32C);
        crc.Append(data);
        return crc.Result;
    }

    private uint Current()
    {
        if (!_started)
        {
            _started = true;
            _state = uint.MaxValue;
        }

        return _state;
    }
}
