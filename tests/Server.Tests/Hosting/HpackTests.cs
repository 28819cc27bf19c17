using System.Text;
using Coordination.Server.Hosting.Http2;
using static Coordination.Server.Tests.Hosting.Http2TestSupport;

namespace Coordination.Server.Tests.Hosting;

public class HpackHuffmanTests
{
    [Theory]
    // Values as printed in RFC 7541 Appendix B (code right-aligned, length).
    [InlineData(0, 0x1ff8u, 13)]
    [InlineData(1, 0x7fffd8u, 23)]
    [InlineData(10, 0x3ffffffcu, 30)]
    [InlineData(22, 0x3ffffffeu, 30)]
    [InlineData(32, 0x14u, 6)]
    [InlineData('0', 0x0u, 5)]
    [InlineData(':', 0x5cu, 7)]
    [InlineData('A', 0x21u, 6)]
    [InlineData('X', 0xfcu, 8)]
    [InlineData('\\', 0x7fff0u, 19)]
    [InlineData('a', 0x3u, 5)]
    [InlineData('{', 0x7ffeu, 15)]
    [InlineData('~', 0x1ffdu, 13)]
    [InlineData(127, 0xffffffcu, 28)]
    [InlineData(128, 0xfffe6u, 20)]
    [InlineData(153, 0x1fffdcu, 21)]
    [InlineData(199, 0x1ffffecu, 25)]
    [InlineData(211, 0x7ffffe0u, 27)]
    [InlineData(220, 0xffffffdu, 28)]
    [InlineData(249, 0xffffffeu, 28)]
    [InlineData(254, 0x7fffff0u, 27)]
    [InlineData(255, 0x3ffffeeu, 26)]
    [InlineData(256, 0x3fffffffu, 30)]
    public void DerivedCodesMatchTheRfcTable(int symbol, uint code, int length) =>
        Assert.Equal((code, length), HpackHuffman.GetCode(symbol));

    [Theory]
    // RFC 7541 C.4 and C.6 Huffman-coded strings.
    [InlineData("f1e3c2e5f23a6ba0ab90f4ff", "www.example.com")]
    [InlineData("a8eb10649cbf", "no-cache")]
    [InlineData("25a849e95ba97d7f", "custom-key")]
    [InlineData("25a849e95bb8e8b4bf", "custom-value")]
    [InlineData("6402", "302")]
    [InlineData("aec3771a4b", "private")]
    [InlineData("d07abe941054d444a8200595040b8166e082a62d1bff", "Mon, 21 Oct 2013 20:13:21 GMT")]
    [InlineData("9d29ad171863c78f0b97c8e9ae82ae43d3", "https://www.example.com")]
    [InlineData("", "")]
    public void DecodesRfcExamples(string hex, string expected)
    {
        var source = Hex(hex);
        var destination = new byte[HpackHuffman.MaxDecodedLength(source.Length)];
        int n = HpackHuffman.Decode(source, destination);
        Assert.Equal(expected, Encoding.ASCII.GetString(destination, 0, n));
    }

    [Fact]
    public void RoundTripsEveryByteAndRandomStrings()
    {
        var all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var random = new Random(7541);
        var inputs = new List<byte[]> { all, all.Reverse().ToArray() };
        for (int i = 0; i < 500; i++)
        {
            var s = new byte[random.Next(0, 64)];
            random.NextBytes(s);
            inputs.Add(s);
        }
        foreach (var input in inputs)
        {
            var encoded = HuffmanEncode(input);
            var destination = new byte[HpackHuffman.MaxDecodedLength(encoded.Length)];
            int n = HpackHuffman.Decode(encoded, destination);
            Assert.Equal(input, destination.AsSpan(0, n).ToArray());
        }
    }

    [Theory]
    [InlineData("ff")]          // 8 bits of padding
    [InlineData("18")]          // 'a' then padding of zeros
    [InlineData("fffffffc")]    // EOS (30 ones) then 2 ones of padding
    [InlineData("f1e3c2e5f23a6ba0ab90f4")] // "www.example.co" + a truncated code
    public void RejectsInvalidStrings(string hex)
    {
        var source = Hex(hex);
        Assert.Equal(-1, HpackHuffman.Decode(source, new byte[HpackHuffman.MaxDecodedLength(source.Length)]));
    }
}

public class HpackDecoderTests
{
    [Fact]
    public void C2_LiteralRepresentations()
    {
        var d = new HpackDecoder();
        Assert.Equal([("custom-key", "custom-header")], Decode(d, Hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572")));
        Assert.Equal(55, d.DynamicTableSize);

        d = new HpackDecoder();
        Assert.Equal([(":path", "/sample/path")], Decode(d, Hex("040c 2f73 616d 706c 652f 7061 7468")));
        Assert.Equal(0, d.DynamicTableCount);

        d = new HpackDecoder();
        var never = new NeverIndexedProbe();
        d.Decode(Hex("1008 7061 7373 776f 7264 0673 6563 7265 74"), never);
        Assert.Equal(("password", "secret", true), never.Field);
        Assert.Equal(0, d.DynamicTableCount);

        d = new HpackDecoder();
        Assert.Equal([(":method", "GET")], Decode(d, Hex("82")));
        Assert.Equal(0, d.DynamicTableCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void C3_C4_RequestsShareTheDynamicTable(bool huffman)
    {
        string[] blocks = huffman
            ? ["8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
               "8286 84be 5886 a8eb 1064 9cbf",
               "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"]
            : ["8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
               "8286 84be 5808 6e6f 2d63 6163 6865",
               "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"];
        var d = new HpackDecoder();

        Assert.Equal(
            [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")],
            Decode(d, Hex(blocks[0])));
        Assert.Equal(57, d.DynamicTableSize);

        Assert.Equal(
            [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"), ("cache-control", "no-cache")],
            Decode(d, Hex(blocks[1])));
        Assert.Equal(110, d.DynamicTableSize);

        Assert.Equal(
            [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"), ("custom-key", "custom-value")],
            Decode(d, Hex(blocks[2])));
        Assert.Equal(164, d.DynamicTableSize);
        Assert.Equal(3, d.DynamicTableCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void C5_C6_ResponsesEvictFromA256ByteTable(bool huffman)
    {
        // The C.5/C.6 blocks, built field by field; C.6.1 is also checked byte for byte.
        var first = new List<byte> { 0x3F, 0xE1, 0x01 }; // size update to 256 (C.5 assumes SETTINGS_HEADER_TABLE_SIZE 256)
        var firstFields = new List<byte>();
        Incremental(firstFields, 8, "", "302", huffman);
        Incremental(firstFields, 24, "", "private", huffman);
        Incremental(firstFields, 33, "", "Mon, 21 Oct 2013 20:13:21 GMT", huffman);
        Incremental(firstFields, 46, "", "https://www.example.com", huffman);
        if (huffman)
        {
            Assert.Equal(Hex("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3"), firstFields.ToArray());
        }
        first.AddRange(firstFields);

        var second = new List<byte>();
        Incremental(second, 8, "", "307", huffman);
        second.AddRange([0xC1, 0xC0, 0xBF]);

        var third = new List<byte> { 0x88, 0xC1 };
        Incremental(third, 33, "", "Mon, 21 Oct 2013 20:13:22 GMT", huffman);
        third.Add(0xC0);
        Incremental(third, 26, "", "gzip", huffman);
        Incremental(third, 55, "", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1", huffman);

        var d = new HpackDecoder();
        Assert.Equal(
            [(":status", "302"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")],
            Decode(d, first.ToArray()));
        Assert.Equal(222, d.DynamicTableSize);

        Assert.Equal(
            [(":status", "307"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")],
            Decode(d, second.ToArray()));
        Assert.Equal(222, d.DynamicTableSize);
        Assert.Equal(4, d.DynamicTableCount);

        Assert.Equal(
            [(":status", "200"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"), ("location", "https://www.example.com"),
             ("content-encoding", "gzip"), ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")],
            Decode(d, third.ToArray()));
        Assert.Equal(215, d.DynamicTableSize);
        Assert.Equal(3, d.DynamicTableCount);
    }

    [Fact]
    public void SizeUpdateEvictsAndOversizedEntryEmptiesTheTable()
    {
        var d = new HpackDecoder();
        Decode(d, Hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
        Assert.Equal(1, d.DynamicTableCount);
        Decode(d, Hex("20")); // size update to 0
        Assert.Equal(0, d.DynamicTableCount);
        Decode(d, Hex("3f e1 1f")); // back to 4096
        var block = new List<byte>();
        Incremental(block, 0, "big", new string('x', 5000), huffman: false);
        Assert.Equal([("big", new string('x', 5000))], Decode(d, block.ToArray()));
        Assert.Equal(0, d.DynamicTableCount);
    }

    [Theory]
    [InlineData("80")]                 // index 0
    [InlineData("be")]                 // dynamic index 62 on an empty table
    [InlineData("3f e2 1f")]           // size update to 4097 > 4096
    [InlineData("82 20")]              // size update after a field
    [InlineData("40 0a 63 75")]        // string runs past the end
    [InlineData("ff ff ff ff ff 0f")]  // integer overflow
    [InlineData("40 81 ff 00")]        // bad Huffman padding
    public void RejectsMalformedBlocks(string hex) =>
        Assert.Throws<HpackDecodingException>(() => Decode(new HpackDecoder(), Hex(hex)));

    private sealed class NeverIndexedProbe : IHpackHeaderSink
    {
        public (string, string, bool) Field { get; private set; }

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) =>
            Field = (Encoding.ASCII.GetString(name), Encoding.ASCII.GetString(value), neverIndexed);
    }
}
