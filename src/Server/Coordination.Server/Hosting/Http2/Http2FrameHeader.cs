using System.Buffers.Binary;

namespace Coordination.Server.Hosting.Http2;

/// <summary>The 9-byte header in front of every HTTP/2 frame (RFC 9113 §4.1): 24-bit payload length, type, flags, 31-bit stream id.</summary>
internal static class Http2FrameHeader
{
    /// <summary>Size of a frame header.</summary>
    public const int Length = 9;

    /// <summary>Writes a frame header into the first <see cref="Length"/> bytes of <paramref name="to"/>.</summary>
    public static void Write(Span<byte> to, int payloadLength, byte type, byte flags, uint streamId)
    {
        to[0] = (byte)(payloadLength >> 16);
        to[1] = (byte)(payloadLength >> 8);
        to[2] = (byte)payloadLength;
        to[3] = type;
        to[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(to[5..], streamId);
    }

    /// <summary>Reads the frame header at the start of <paramref name="from"/> (the stream id's reserved bit dropped).</summary>
    public static (int PayloadLength, byte Type, byte Flags, uint StreamId) Read(ReadOnlySpan<byte> from) =>
        ((from[0] << 16) | (from[1] << 8) | from[2], from[3], from[4], BinaryPrimitives.ReadUInt32BigEndian(from[5..]) & 0x7FFF_FFFF);
}
