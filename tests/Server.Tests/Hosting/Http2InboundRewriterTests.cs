using System.Buffers;
using System.Diagnostics;
using System.Text;
using Coordination.Server.Hosting.Http2;
using static Coordination.Server.Tests.Hosting.Http2TestSupport;

namespace Coordination.Server.Tests.Hosting;

public class Http2InboundRewriterTests
{
    private const byte Data = 0x0, Headers = 0x1, Settings = 0x4, Ping = 0x6, Continuation = 0x9;
    private const byte EndStream = 0x1, EndHeaders = 0x4, Padded = 0x8, Priority = 0x20;

    private static readonly byte[] SettingsFrame = Frame(Settings, 0, 0, Hex("0003 0000 0064 0004 0040 0000"));

    /// <summary>A grpc-go style first request: new names and values are indexed, Huffman-coded.</summary>
    private static byte[] GrpcRequestBlock(string authority, string path)
    {
        var b = new List<byte>();
        Indexed(b, 3);  // :method POST
        Indexed(b, 6);  // :scheme http
        Incremental(b, 4, "", path, huffman: true);
        Incremental(b, 1, "", authority, huffman: true);
        Incremental(b, 31, "", "application/grpc", huffman: true);
        Incremental(b, 0, "user-agent", "grpc-go/1.26.0", huffman: true);
        Incremental(b, 0, "te", "trailers", huffman: true);
        return [.. b];
    }

    private static List<(string Name, string Value)> HeadersOf(byte[] output, out List<Frame2> frames)
    {
        Assert.Equal(Preface, output.AsSpan(0, Preface.Length).ToArray());
        frames = Frames(output.AsSpan(Preface.Length));
        var block = frames.Where(f => f.Type is Headers or Continuation).SelectMany(f => f.Payload).ToArray();
        var fresh = new HpackDecoder();
        var headers = Decode(fresh, block);
        Assert.Equal(0, fresh.DynamicTableCount); // the re-encoded block never touches the server's table
        return headers;
    }

    [Theory]
    [InlineData("http://127.0.0.1:2379", "127.0.0.1:2379")]
    [InlineData("https://example.com:443/some/path?q#f", "example.com:443")]
    [InlineData("http://user:pw@[::1]:2379", "[::1]:2379")]
    [InlineData("unix:///tmp/etcd.sock", "localhost")]
    public void StripsSchemeFromUrlShapedAuthorities(string value, string expected)
    {
        Assert.True(HeaderBlockReencoder.TryStripScheme(Ascii(value), out var authority));
        Assert.Equal(expected, Encoding.ASCII.GetString(authority));
    }

    [Theory]
    [InlineData("127.0.0.1:2379")]
    [InlineData("localhost")]
    [InlineData("://x")]
    [InlineData("1http://x")]
    public void LeavesOrdinaryAuthoritiesAlone(string value) =>
        Assert.False(HeaderBlockReencoder.TryStripScheme(Ascii(value), out _));

    [Fact]
    public void RewritesAuthorityAndKeepsDynamicTableAcrossRequests()
    {
        var data = Frame(Data, EndStream, 1, Hex("00 0000 0002 0a00"));
        var second = new List<byte>();
        Indexed(second, 3);
        Indexed(second, 6);
        Indexed(second, 66);  // :path from request 1 (now the 5th newest)
        Indexed(second, 65);  // :authority
        Indexed(second, 64);  // content-type
        Indexed(second, 63);  // user-agent
        Indexed(second, 62);  // te
        var input = Concat(
            Preface, SettingsFrame,
            Frame(Headers, EndHeaders, 1, GrpcRequestBlock("http://127.0.0.1:2379", "/etcdserverpb.Maintenance/Status")),
            data,
            Frame(Headers, EndHeaders | EndStream, 3, [.. second]),
            Frame(Ping, 0, 0, new byte[8]));

        using var rewriter = new Http2InboundRewriter();
        var output = Run(rewriter, input);

        Assert.False(rewriter.IsVerbatim);
        Assert.Equal(2, rewriter.HeaderBlocks);
        Assert.Equal(2, rewriter.RewrittenAuthorities);
        Assert.Equal(5, rewriter.Decoder.DynamicTableCount);
        var frames = Frames(output.AsSpan(Preface.Length));
        Assert.Equal([Settings, Headers, Data, Headers, Ping], frames.Select(f => f.Type));
        Assert.Equal(SettingsFrame, Frame(frames[0].Type, frames[0].Flags, frames[0].StreamId, frames[0].Payload));
        Assert.Equal(data, Frame(frames[2].Type, frames[2].Flags, frames[2].StreamId, frames[2].Payload));
        Assert.Equal((EndHeaders, 1u), (frames[1].Flags, frames[1].StreamId));
        Assert.Equal((byte)(EndHeaders | EndStream), frames[3].Flags);

        List<(string, string)> expected =
        [
            (":method", "POST"), (":scheme", "http"), (":path", "/etcdserverpb.Maintenance/Status"),
            (":authority", "127.0.0.1:2379"), ("content-type", "application/grpc"),
            ("user-agent", "grpc-go/1.26.0"), ("te", "trailers"),
        ];
        foreach (var frame in new[] { frames[1], frames[3] })
        {
            var fresh = new HpackDecoder();
            Assert.Equal(expected, Decode(fresh, frame.Payload));
            Assert.Equal(0, fresh.DynamicTableCount);
        }
        // Literal, new name, no Huffman: the exact encoding of the first field.
        Assert.Equal(Hex("00 07 3a6d6574686f64 04 504f5354"), frames[1].Payload.AsSpan(0, 14).ToArray());
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    [InlineData(7)]
    public void JoinsHeadersAndContinuationsWithPaddingAndPriority(int chunk)
    {
        var block = GrpcRequestBlock("http://127.0.0.1:2379", "/etcdserverpb.KV/Range");
        int a = 5, b = 17;
        var padded = Concat([3], Hex("8000000b 10"), block[..a], new byte[3]); // pad length 3, exclusive dep on 11, weight 16
        var input = Concat(
            Preface,
            Frame(Headers, Padded | Priority | EndStream, 5, padded),
            Frame(Continuation, 0, 5, block[a..b]),
            Frame(Continuation, EndHeaders, 5, block[b..]),
            Frame(Data, 0, 0, []));

        using var rewriter = new Http2InboundRewriter();
        var headers = HeadersOf(Run(rewriter, input, chunk), out var frames);

        Assert.Equal([Headers, Data], frames.Select(f => f.Type));
        Assert.Equal((byte)(EndStream | EndHeaders), frames[0].Flags);
        Assert.Equal(5u, frames[0].StreamId);
        Assert.Contains((":authority", "127.0.0.1:2379"), headers);
        Assert.Contains((":path", "/etcdserverpb.KV/Range"), headers);
        Assert.Equal(7, headers.Count);
    }

    [Fact]
    public void ResplitsALargeBlockAtTheFrameLimit()
    {
        var block = new List<byte>();
        Indexed(block, 3);
        Incremental(block, 1, "", "http://127.0.0.1:2379", huffman: true);
        var big = string.Concat(Enumerable.Range(0, 4000).Select(i => (char)('a' + (i % 26))));
        for (int i = 0; i < 10; i++) NotIndexed(block, 0, $"x-big-{i}", big, huffman: true); // ~28 KB coded, ~40 KB plain
        var raw = block.ToArray();
        var input = new List<byte>(Preface);
        for (int offset = 0; offset < raw.Length; offset += 16384)
        {
            int n = Math.Min(16384, raw.Length - offset);
            bool last = offset + n == raw.Length;
            input.AddRange(Frame(offset == 0 ? Headers : Continuation,
                (byte)((offset == 0 ? EndStream : 0) | (last ? EndHeaders : 0)), 7, raw.AsSpan(offset, n)));
        }

        using var rewriter = new Http2InboundRewriter();
        var headers = HeadersOf(Run(rewriter, [.. input], 4096), out var frames);

        Assert.True(frames.Count >= 3);
        Assert.All(frames, f => Assert.True(f.Payload.Length <= 16384));
        Assert.All(frames, f => Assert.Equal(7u, f.StreamId));
        Assert.Equal(Headers, frames[0].Type);
        Assert.Equal(EndStream, frames[0].Flags);
        Assert.All(frames.Skip(1), f => Assert.Equal(Continuation, f.Type));
        Assert.All(frames.Skip(1).SkipLast(1), f => Assert.Equal(0, f.Flags));
        Assert.Equal(EndHeaders, frames[^1].Flags);
        Assert.All(frames.SkipLast(1), f => Assert.Equal(16384, f.Payload.Length));
        Assert.Equal(12, headers.Count);
        Assert.Equal((":authority", "127.0.0.1:2379"), headers[1]);
        Assert.All(headers.Skip(2), h => Assert.Equal(big, h.Value));
    }

    [Fact]
    public void StreamsOtherFramesThroughInAnyChunking()
    {
        var random = new Random(9113);
        var payload = new byte[40000];
        random.NextBytes(payload);
        var input = Concat(Preface, SettingsFrame, Frame(Data, 0, 1, payload.AsSpan(0, 16384)),
            Frame(Data, EndStream, 1, payload.AsSpan(16384, 16384)), Frame(Ping, 1, 0, new byte[8]));
        foreach (int chunk in new[] { 1, 3, 1000, 16393, int.MaxValue })
        {
            using var rewriter = new Http2InboundRewriter();
            Assert.Equal(input, Run(rewriter, input, chunk));
        }
    }

    [Fact]
    public void MalformedBlockFallsBackToVerbatim()
    {
        var input = Concat(Preface, Frame(Headers, EndHeaders, 1, Hex("82 be")), Frame(Data, 0, 1, [1, 2, 3]),
            Frame(Headers, EndHeaders, 3, GrpcRequestBlock("http://a:1", "/x")));
        using var rewriter = new Http2InboundRewriter();
        Assert.Equal(input, Run(rewriter, input, 5));
        Assert.True(rewriter.IsVerbatim);
    }

    [Fact]
    public void InterruptedBlockFallsBackToVerbatim()
    {
        var block = GrpcRequestBlock("http://a:1", "/x");
        var input = Concat(Preface, Frame(Headers, 0, 1, block[..4]), Frame(Data, 0, 1, [1]),
            Frame(Continuation, EndHeaders, 1, block[4..]));
        using var rewriter = new Http2InboundRewriter();
        Assert.Equal(input, Run(rewriter, input));
        Assert.True(rewriter.IsVerbatim);
    }

    [Fact]
    public void OversizedHeaderFrameFallsBackToVerbatim()
    {
        var input = Concat(Preface, Frame(Headers, EndHeaders, 1, new byte[16385]));
        using var rewriter = new Http2InboundRewriter();
        Assert.Equal(input, Run(rewriter, input, 1000));
        Assert.True(rewriter.IsVerbatim);
    }

    [Fact]
    public void MeasuresPerRequestCost()
    {
        // Steady state of a grpc-go connection: every field of a request is a dynamic table hit.
        var first = Concat(Preface, Frame(Headers, EndHeaders, 1, GrpcRequestBlock("http://127.0.0.1:2379", "/etcdserverpb.KV/Range")));
        var repeat = new List<byte>();
        foreach (int i in new[] { 3, 6, 66, 65, 64, 63, 62 }) Indexed(repeat, i);
        var request = new ReadOnlySequence<byte>(Frame(Headers, EndHeaders, 3, [.. repeat]));

        using var rewriter = new Http2InboundRewriter();
        Run(rewriter, first);
        var output = new ArrayBufferWriter<byte>(4096);
        for (int i = 0; i < 300_000; i++) { output.ResetWrittenCount(); rewriter.Process(request, output); }

        const int Iterations = 500_000;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Iterations; i++) { output.ResetWrittenCount(); rewriter.Process(request, output); }
        clock.Stop();
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        double ns = clock.Elapsed.TotalNanoseconds / Iterations;
        TestContext.Current.TestOutputHelper?.WriteLine($"rewrite of a {request.Length}-byte HEADERS frame into {output.WrittenCount} bytes: {ns:F0} ns, {(double)allocated / Iterations:F1} bytes allocated per request");
        Assert.False(rewriter.IsVerbatim);
        Assert.True(allocated / Iterations < 64, $"{allocated / Iterations} bytes allocated per request");
    }
}
