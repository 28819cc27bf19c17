using System.Buffers.Binary;
using System.Numerics;

namespace Coordination.Compatibility.Tests.Durability;

/// <summary>
/// An independent reader of the WAL segment framing described in docs/storage.md (12-byte header:
/// u32 crc, u32 length, u8 type, u8 magic 0xC7, u16 reserved; CRC-32C over bytes 4..end chained from
/// the previous record, the segment header from 0). Used only to find record boundaries and the real
/// end of written data, so that tests can damage a chosen record.
/// </summary>
internal static class WalFile
{
    public const int HeaderSize = 12;
    public const byte Magic = 0xC7;

    /// <summary>Record types: 1 segment header, 2 entry, 3 hard state, 4 snapshot marker.</summary>
    public readonly record struct Record(long Offset, int Length, byte Type)
    {
        public long End => Offset + HeaderSize + Length;

        public string TypeName => Type switch { 1 => "segment header", 2 => "entry", 3 => "hard state", 4 => "snapshot marker", _ => $"type {Type}" };
    }

    /// <summary>The segment files of a WAL directory, oldest first (names sort by sequence).</summary>
    public static IReadOnlyList<string> Segments(string walDir) =>
        Directory.GetFiles(walDir, "*.wal").Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// Valid records from the start of the file, stopping at the first frame that is not valid
    /// (zeroed preallocated space, the end of the file, or damage). The last record's end is the real
    /// end of written data.
    /// </summary>
    public static IReadOnlyList<Record> ReadRecords(string path)
    {
        var data = File.ReadAllBytes(path);
        var records = new List<Record>();
        long offset = 0;
        uint seed = 0;
        while (offset + HeaderSize <= data.Length)
        {
            var span = data.AsSpan((int)offset);
            var crc = BinaryPrimitives.ReadUInt32LittleEndian(span);
            var length = BinaryPrimitives.ReadUInt32LittleEndian(span[4..]);
            var type = span[8];
            if (span[9] != Magic || span[10] != 0 || span[11] != 0 || type is < 1 or > 4 || length > data.Length - offset - HeaderSize)
            {
                break;
            }

            if (Crc32C(seed, span.Slice(4, HeaderSize - 4 + (int)length)) != crc)
            {
                break;
            }

            records.Add(new Record(offset, (int)length, type));
            seed = crc;
            offset += HeaderSize + length;
        }

        return records;
    }

    /// <summary>CRC-32C (initial value and final xor 0xFFFFFFFF), continued from a finished value.</summary>
    public static uint Crc32C(uint crc, ReadOnlySpan<byte> data)
    {
        var c = ~crc;
        foreach (var b in data)
        {
            c = BitOperations.Crc32C(c, b);
        }

        return ~c;
    }

    /// <summary>Self-check of the CRC against the standard test vector.</summary>
    public static bool CrcSelfCheck() => Crc32C(0, "123456789"u8) == 0xE3069283;
}
