using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Coordination.Server.Hosting.Http2;

namespace Coordination.Server.Tests.Hosting;

/// <summary>Builds HPACK blocks and HTTP/2 frames, and parses them back, for the HTTP/2 tests.</summary>
internal static class Http2TestSupport
{
    public static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

    public static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

    /// <summary>Huffman-encodes with the code table under test (checked against the RFC's own examples).</summary>
    public static byte[] HuffmanEncode(ReadOnlySpan<byte> data)
    {
        var output = new List<byte>();
        ulong acc = 0;
        int bits = 0;
        foreach (byte b in data)
        {
            var (code, length) = HpackHuffman.GetCode(b);
            acc = (acc << length) | code;
            bits += length;
            while (bits >= 8)
            {
                output.Add((byte)(acc >> (bits - 8)));
                bits -= 8;
            }
        }
        if (bits > 0) output.Add((byte)((acc << (8 - bits)) | (0xFFu >> bits)));
        return [.. output];
    }

    public static void Integer(List<byte> o, int value, int prefixBits, byte flags)
    {
        int max = (1 << prefixBits) - 1;
        if (value < max) { o.Add((byte)(flags | value)); return; }
        o.Add((byte)(flags | max));
        value -= max;
        while (value >= 0x80) { o.Add((byte)(0x80 | (value & 0x7F))); value >>= 7; }
        o.Add((byte)value);
    }

    public static void String(List<byte> o, string s, bool huffman)
    {
        var raw = Ascii(s);
        var bytes = huffman ? HuffmanEncode(raw) : raw;
        Integer(o, bytes.Length, 7, huffman ? (byte)0x80 : (byte)0);
        o.AddRange(bytes);
    }

    /// <summary>6.1 indexed field.</summary>
    public static void Indexed(List<byte> o, int index) => Integer(o, index, 7, 0x80);

    /// <summary>6.2.1 literal with incremental indexing; nameIndex 0 means a new name.</summary>
    public static void Incremental(List<byte> o, int nameIndex, string name, string value, bool huffman)
    {
        Integer(o, nameIndex, 6, 0x40);
        if (nameIndex == 0) String(o, name, huffman);
        String(o, value, huffman);
    }

    /// <summary>6.2.2 literal without indexing.</summary>
    public static void NotIndexed(List<byte> o, int nameIndex, string name, string value, bool huffman)
    {
        Integer(o, nameIndex, 4, 0x00);
        if (nameIndex == 0) String(o, name, huffman);
        String(o, value, huffman);
    }

    public static byte[] Frame(byte type, byte flags, uint streamId, ReadOnlySpan<byte> payload)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame.AsSpan(9));
        return frame;
    }

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];

    /// <summary>Feeds <paramref name="input"/> to the rewriter in chunks of <paramref name="chunk"/> bytes, like a socket would.</summary>
    public static byte[] Run(Http2InboundRewriter rewriter, byte[] input, int chunk = int.MaxValue)
    {
        var output = new ArrayBufferWriter<byte>();
        var pending = new List<byte>();
        for (int i = 0; i < input.Length; i += chunk)
        {
            pending.AddRange(input.AsSpan(i, Math.Min(chunk, input.Length - i)).ToArray());
            var sequence = new ReadOnlySequence<byte>(pending.ToArray());
            var consumed = rewriter.Process(sequence, output);
            pending.RemoveRange(0, (int)sequence.Slice(0, consumed).Length);
        }
        Assert.Empty(pending);
        return output.WrittenSpan.ToArray();
    }

    public sealed record Frame2(byte Type, byte Flags, uint StreamId, byte[] Payload);

    /// <summary>Splits a frame stream (no preface) into frames.</summary>
    public static List<Frame2> Frames(ReadOnlySpan<byte> bytes)
    {
        var frames = new List<Frame2>();
        while (!bytes.IsEmpty)
        {
            int length = (bytes[0] << 16) | (bytes[1] << 8) | bytes[2];
            frames.Add(new Frame2(bytes[3], bytes[4], BinaryPrimitives.ReadUInt32BigEndian(bytes[5..]) & 0x7FFFFFFF, bytes.Slice(9, length).ToArray()));
            bytes = bytes[(9 + length)..];
        }
        return frames;
    }

    public sealed class Collector : IHpackHeaderSink
    {
        public List<(string Name, string Value)> Headers { get; } = [];

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) =>
            Headers.Add((Encoding.ASCII.GetString(name), Encoding.ASCII.GetString(value)));
    }

    public static List<(string Name, string Value)> Decode(HpackDecoder decoder, ReadOnlySpan<byte> block)
    {
        var collector = new Collector();
        decoder.Decode(block, collector);
        return collector.Headers;
    }
}
