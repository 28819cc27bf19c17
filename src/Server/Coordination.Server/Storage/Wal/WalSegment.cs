using System.Buffers.Binary;
using System.Globalization;

namespace Coordination.Server.Storage.Wal;

/// <summary>
/// One segment file of the log: <c>{sequence:x16}-{firstIndex:x16}.wal</c> (16 lower-case hex digits
/// each, so names sort in sequence order). The sequence numbers of the segments in a directory are
/// consecutive; <c>firstIndex</c> is the index of the first entry written into it (later entries may
/// overwrite lower indexes, but every entry of the previous segments that is still live is below it).
/// </summary>
internal sealed class WalSegment
{
    /// <summary>File extension of segment files.</summary>
    public const string Extension = ".wal";

    /// <summary>Suffix of a segment being created; such files are deleted on open.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>Payload size of the <see cref="WalRecordType.SegmentHeader"/> record.</summary>
    public const int HeaderPayloadSize = 32;

    private const uint FormatMagic = 0x4C415743; // "CWAL" little-endian
    private const uint FormatVersion = 1;

    public WalSegment(ulong sequence, ulong firstIndex, string path)
    {
        Sequence = sequence;
        FirstIndex = firstIndex;
        Path = path;
    }

    /// <summary>Position of the segment in the log.</summary>
    public ulong Sequence { get; }

    /// <summary>Index of the first entry written to the segment.</summary>
    public ulong FirstIndex { get; }

    /// <summary>Full path of the segment file.</summary>
    public string Path { get; }

    /// <summary>Indexes of the snapshot markers recorded in this segment.</summary>
    public List<ulong> SnapshotIndexes { get; } = [];

    /// <summary>The file name of a segment.</summary>
    public static string FileName(ulong sequence, ulong firstIndex) =>
        string.Create(CultureInfo.InvariantCulture, $"{sequence:x16}-{firstIndex:x16}{Extension}");

    /// <summary>Parses a segment file name; false for anything else in the directory.</summary>
    public static bool TryParseName(string fileName, out ulong sequence, out ulong firstIndex)
    {
        sequence = 0;
        firstIndex = 0;
        if (fileName.Length != 16 + 1 + 16 + Extension.Length || !fileName.EndsWith(Extension, StringComparison.Ordinal) || fileName[16] != '-')
        {
            return false;
        }

        return IsLowerHex(fileName.AsSpan(0, 16)) && IsLowerHex(fileName.AsSpan(17, 16))
            && ulong.TryParse(fileName.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out sequence)
            && ulong.TryParse(fileName.AsSpan(17, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out firstIndex);
    }

    /// <summary>Writes the segment header payload.</summary>
    public static void WriteHeader(Span<byte> payload, ulong sequence, ulong firstIndex, uint previousCrc)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(payload, FormatMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(payload[4..], FormatVersion);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[8..], sequence);
        BinaryPrimitives.WriteUInt64LittleEndian(payload[16..], firstIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(payload[24..], previousCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(payload[28..], 0);
    }

    /// <summary>Reads a segment header payload; false when its size, magic or version is wrong.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> payload, out ulong sequence, out ulong firstIndex, out uint previousCrc)
    {
        sequence = 0;
        firstIndex = 0;
        previousCrc = 0;
        if (payload.Length != HeaderPayloadSize
            || BinaryPrimitives.ReadUInt32LittleEndian(payload) != FormatMagic
            || BinaryPrimitives.ReadUInt32LittleEndian(payload[4..]) != FormatVersion)
        {
            return false;
        }

        sequence = BinaryPrimitives.ReadUInt64LittleEndian(payload[8..]);
        firstIndex = BinaryPrimitives.ReadUInt64LittleEndian(payload[16..]);
        previousCrc = BinaryPrimitives.ReadUInt32LittleEndian(payload[24..]);
        return true;
    }

    private static bool IsLowerHex(ReadOnlySpan<char> s)
    {
        foreach (char c in s)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }

        return true;
    }
}
