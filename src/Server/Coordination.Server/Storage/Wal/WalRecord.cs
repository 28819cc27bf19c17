using System.Buffers.Binary;

namespace Coordination.Server.Storage.Wal;

/// <summary>
/// The record frame. Every record is a 12-byte header followed by its payload:
/// <code>
/// offset 0  u32 LE  crc      CRC-32C of bytes 4 .. end of payload, continued from the previous record's crc
/// offset 4  u32 LE  length   payload length in bytes
/// offset 8  u8      type     <see cref="WalRecordType"/>
/// offset 9  u8      magic    0xC7, guards against reading garbage as a header
/// offset 10 u16     reserved must be zero
/// offset 12         payload  protobuf message, or the fixed segment header layout
/// </code>
/// The checksum chain starts at 0 with each segment's <see cref="WalRecordType.SegmentHeader"/>
/// record, whose payload carries the chain value the previous segment ended with, so segments are
/// linked too.
/// </summary>
internal static class WalRecord
{
    /// <summary>Size of the frame header in bytes.</summary>
    public const int HeaderSize = 12;

    /// <summary>The magic byte at offset 9 of every frame.</summary>
    public const byte Magic = 0xC7;

    /// <summary>Largest payload accepted, a sanity bound for decoding (1 GiB).</summary>
    public const int MaxPayloadLength = 1 << 30;

    /// <summary>Fills in the header of a frame whose payload is already in place and returns its crc.</summary>
    /// <param name="frame">The whole record: header space followed by the payload.</param>
    /// <param name="type">Record type.</param>
    /// <param name="seed">The chain value: the previous record's crc, or 0 for a segment header.</param>
    public static uint Seal(Span<byte> frame, WalRecordType type, uint seed)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], (uint)(frame.Length - HeaderSize));
        frame[8] = (byte)type;
        frame[9] = Magic;
        frame[10] = 0;
        frame[11] = 0;
        uint crc = Crc32C.Append(seed, frame[4..]);
        BinaryPrimitives.WriteUInt32LittleEndian(frame, crc);
        return crc;
    }

    /// <summary>Outcome of <see cref="TryDecode"/>.</summary>
    public enum Status
    {
        /// <summary>A valid record.</summary>
        Ok,

        /// <summary>Fewer bytes remain than the header or its declared length needs.</summary>
        Truncated,

        /// <summary>The header's magic, reserved bytes or type are not valid.</summary>
        BadHeader,

        /// <summary>The header is plausible but the checksum does not match.</summary>
        ChecksumMismatch,
    }

    /// <summary>Decodes the record at the start of <paramref name="data"/>.</summary>
    /// <param name="data">Bytes from the record start to the end of the file.</param>
    /// <param name="seed">The expected chain value (previous record's crc).</param>
    /// <param name="type">Record type, when the header is plausible.</param>
    /// <param name="payloadLength">Declared payload length, when the header is plausible.</param>
    /// <param name="crc">The record's crc as stored (and as computed, when <see cref="Status.Ok"/>).</param>
    public static Status TryDecode(ReadOnlySpan<byte> data, uint seed, out WalRecordType type, out int payloadLength, out uint crc)
    {
        type = 0;
        payloadLength = 0;
        crc = 0;
        if (data.Length < HeaderSize)
        {
            return Status.Truncated;
        }

        crc = BinaryPrimitives.ReadUInt32LittleEndian(data);
        if (data[9] != Magic || data[10] != 0 || data[11] != 0 || !IsKnown(data[8]))
        {
            return Status.BadHeader;
        }

        type = (WalRecordType)data[8];
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        if (length > MaxPayloadLength)
        {
            return Status.BadHeader;
        }

        payloadLength = (int)length;
        if (data.Length - HeaderSize < payloadLength)
        {
            return Status.Truncated;
        }

        uint computed = Crc32C.Append(seed, data[4..(HeaderSize + payloadLength)]);
        return computed == crc ? Status.Ok : Status.ChecksumMismatch;
    }

    /// <summary>Cheap pre-check used when scanning for a resynchronisation point: magic, reserved,
    /// type and a length that fits in the remaining bytes.</summary>
    public static bool LooksLikeHeader(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderSize || data[9] != Magic || data[10] != 0 || data[11] != 0 || !IsKnown(data[8]))
        {
            return false;
        }

        uint length = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        return length <= (uint)(data.Length - HeaderSize);
    }

    private static bool IsKnown(byte type) => type is >= (byte)WalRecordType.SegmentHeader and <= (byte)WalRecordType.Snapshot;
}
