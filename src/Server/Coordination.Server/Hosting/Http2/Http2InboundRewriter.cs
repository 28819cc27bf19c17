using System.Buffers;

namespace Coordination.Server.Hosting.Http2;

/// <summary>
/// Rewrites the client-to-server byte stream of one HTTP/2 connection: the 24-byte preface and every
/// frame pass through unchanged (non-header payloads are streamed as they arrive, never buffered),
/// except header blocks — a HEADERS frame and its CONTINUATION frames — which are HPACK-decoded
/// against the client's dynamic table, re-encoded by <see cref="HeaderBlockReencoder"/> and re-split
/// into HEADERS + CONTINUATION frames of at most <see cref="OutputFrameSize"/> bytes.
/// </summary>
/// <remarks>
/// <para>Re-emitted HEADERS frames carry only END_STREAM (as received) and END_HEADERS (on the last
/// frame). Padding is removed and the PRIORITY fields are dropped: RFC 9113 deprecates the priority
/// scheme and Kestrel ignores it.</para>
/// <para>Anything this class cannot make sense of — a malformed header block, a header frame larger than
/// the accepted frame size, a header block interrupted by another frame, a block over
/// <see cref="MaxHeaderBlockSize"/> — switches the connection to verbatim pass-through from the first
/// frame of the offending block on, so that Kestrel sees exactly what the client sent and rejects it
/// with the proper HTTP/2 error itself.</para>
/// <para>Not thread-safe: one instance per connection, driven by one reader.</para>
/// </remarks>
internal sealed class Http2InboundRewriter : IDisposable
{
    /// <summary>Length of the client connection preface.</summary>
    public const int PrefaceLength = 24;

    /// <summary>Size of the HTTP/2 frame header.</summary>
    public const int FrameHeaderLength = Http2FrameHeader.Length;

    /// <summary>The smallest SETTINGS_MAX_FRAME_SIZE any HTTP/2 server must accept (and Kestrel's default).</summary>
    public const int DefaultMaxFrameSize = 16384;

    /// <summary>Header blocks (as received, all fragments together) larger than this are not rewritten.</summary>
    public const int MaxHeaderBlockSize = 1024 * 1024;

    private const byte TypeHeaders = 0x1;
    private const byte TypeContinuation = 0x9;
    private const byte FlagEndStream = 0x1;
    private const byte FlagEndHeaders = 0x4;
    private const byte FlagPadded = 0x8;
    private const byte FlagPriority = 0x20;

    private readonly int _maxInputFrameSize;
    private readonly HpackDecoder _decoder;
    private readonly PooledByteBuffer _fragments = new();  // concatenated header block fragments
    private readonly PooledByteBuffer _rawFrames = new();  // the block's frames as received
    private readonly PooledByteBuffer _encoded = new();    // the re-encoded block
    private readonly HeaderBlockReencoder _reencoder;

    private State _state = State.Preface;
    private long _payloadRemaining;
    private bool _inHeaderBlock;
    private uint _blockStreamId;
    private bool _blockEndStream;

    /// <summary>
    /// Creates the rewriter. <paramref name="maxInputFrameSize"/> is the server's SETTINGS_MAX_FRAME_SIZE
    /// (Kestrel's <c>Limits.Http2.MaxFrameSize</c>); <paramref name="outputFrameSize"/> bounds the frames
    /// emitted; <paramref name="headerTableSize"/> is the server's SETTINGS_HEADER_TABLE_SIZE.
    /// </summary>
    public Http2InboundRewriter(
        int maxInputFrameSize = DefaultMaxFrameSize,
        int outputFrameSize = DefaultMaxFrameSize,
        int headerTableSize = HpackDecoder.DefaultHeaderTableSize,
        bool expectPreface = true)
    {
        _maxInputFrameSize = maxInputFrameSize;
        OutputFrameSize = outputFrameSize;
        _decoder = new HpackDecoder(headerTableSize);
        _reencoder = new HeaderBlockReencoder(_encoded);
        if (!expectPreface) _state = State.FrameHeader;
    }

    private enum State
    {
        Preface,
        FrameHeader,
        Payload,
        Verbatim,
    }

    /// <summary>Maximum payload of the HEADERS/CONTINUATION frames this rewriter emits.</summary>
    public int OutputFrameSize { get; }

    /// <summary>True once the connection fell back to verbatim pass-through.</summary>
    public bool IsVerbatim => _state == State.Verbatim;

    /// <summary>Number of header blocks re-encoded.</summary>
    public long HeaderBlocks { get; private set; }

    /// <summary>Number of <c>:authority</c>/<c>host</c> values rewritten.</summary>
    public int RewrittenAuthorities => _reencoder.RewrittenAuthorities;

    /// <summary>The client's HPACK decoding state (exposed for tests).</summary>
    internal HpackDecoder Decoder => _decoder;

    /// <summary>
    /// Consumes as much of <paramref name="input"/> as can be handled now, writing the rewritten bytes to
    /// <paramref name="output"/>, and returns the position up to which the input was consumed. Unconsumed
    /// bytes (an incomplete frame header or header frame) must be offered again with more data.
    /// </summary>
    public SequencePosition Process(ReadOnlySequence<byte> input, IBufferWriter<byte> output)
    {
        var reader = new SequenceReader<byte>(input);
        Span<byte> header = stackalloc byte[FrameHeaderLength];
        while (true)
        {
            switch (_state)
            {
                case State.Verbatim:
                    CopyTo(output, reader.UnreadSequence);
                    reader.AdvanceToEnd();
                    return reader.Position;

                case State.Preface:
                    if (reader.Remaining < PrefaceLength) return reader.Position;
                    CopyTo(output, reader.UnreadSequence.Slice(0, PrefaceLength));
                    reader.Advance(PrefaceLength);
                    _state = State.FrameHeader;
                    break;

                case State.Payload:
                {
                    long n = Math.Min(_payloadRemaining, reader.Remaining);
                    if (n > 0)
                    {
                        CopyTo(output, reader.UnreadSequence.Slice(0, n));
                        reader.Advance(n);
                        _payloadRemaining -= n;
                    }
                    if (_payloadRemaining > 0) return reader.Position;
                    _state = State.FrameHeader;
                    break;
                }

                case State.FrameHeader:
                {
                    if (!reader.TryCopyTo(header)) return reader.Position;
                    var (length, type, _, streamId) = Http2FrameHeader.Read(header);
                    bool isHeaderFrame = _inHeaderBlock ? type == TypeContinuation && streamId == _blockStreamId : type == TypeHeaders;
                    if (_inHeaderBlock && !isHeaderFrame)
                    {
                        // HEADERS interrupted by another frame: a connection error Kestrel must report.
                        FallBackToVerbatim(output);
                        break;
                    }
                    if (!isHeaderFrame)
                    {
                        CopyTo(output, reader.UnreadSequence.Slice(0, FrameHeaderLength));
                        reader.Advance(FrameHeaderLength);
                        _payloadRemaining = length;
                        _state = State.Payload;
                        break;
                    }
                    if (length > _maxInputFrameSize || _rawFrames.Length + FrameHeaderLength + length > MaxHeaderBlockSize)
                    {
                        FallBackToVerbatim(output);
                        break;
                    }
                    if (reader.Remaining < FrameHeaderLength + length) return reader.Position;
                    var frame = reader.UnreadSequence.Slice(0, FrameHeaderLength + length);
                    reader.Advance(FrameHeaderLength + length);
                    OnHeaderFrame(frame, header[4], streamId, output);
                    break;
                }
            }
        }
    }

    private void OnHeaderFrame(ReadOnlySequence<byte> frame, byte flags, uint streamId, IBufferWriter<byte> output)
    {
        int start = _rawFrames.Length;
        _rawFrames.Write(frame);
        var payload = _rawFrames.WrittenSpan[(start + FrameHeaderLength)..];
        if (!_inHeaderBlock)
        {
            _inHeaderBlock = true;
            _blockStreamId = streamId;
            _blockEndStream = (flags & FlagEndStream) != 0;
            int padLength = 0;
            if ((flags & FlagPadded) != 0)
            {
                if (payload.IsEmpty) { FallBackToVerbatim(output); return; }
                padLength = payload[0];
                payload = payload[1..];
            }
            if ((flags & FlagPriority) != 0)
            {
                if (payload.Length < 5) { FallBackToVerbatim(output); return; }
                payload = payload[5..];
            }
            if (padLength > payload.Length || streamId == 0) { FallBackToVerbatim(output); return; }
            payload = payload[..^padLength];
        }
        _fragments.Write(payload);
        if ((flags & FlagEndHeaders) != 0) FinishBlock(output);
    }

    private void FinishBlock(IBufferWriter<byte> output)
    {
        _encoded.Clear();
        try
        {
            _decoder.Decode(_fragments.WrittenSpan, _reencoder);
        }
        catch (HpackDecodingException)
        {
            FallBackToVerbatim(output);
            return;
        }
        HeaderBlocks++;
        WriteHeaderFrames(output, _encoded.WrittenSpan, _blockStreamId, _blockEndStream);
        ResetBlock();
    }

    private void WriteHeaderFrames(IBufferWriter<byte> output, ReadOnlySpan<byte> block, uint streamId, bool endStream)
    {
        byte type = TypeHeaders;
        byte flags = endStream ? FlagEndStream : (byte)0;
        do
        {
            int n = Math.Min(block.Length, OutputFrameSize);
            bool last = n == block.Length;
            var span = output.GetSpan(FrameHeaderLength + n);
            Http2FrameHeader.Write(span, n, type, (byte)(flags | (last ? FlagEndHeaders : 0)), streamId);
            block[..n].CopyTo(span[FrameHeaderLength..]);
            output.Advance(FrameHeaderLength + n);
            block = block[n..];
            type = TypeContinuation;
            flags = 0;
            if (last) break;
        }
        while (true);
    }

    /// <summary>Replays the current block's frames as received and passes everything else through from now on.</summary>
    private void FallBackToVerbatim(IBufferWriter<byte> output)
    {
        output.Write(_rawFrames.WrittenSpan);
        ResetBlock();
        _state = State.Verbatim;
    }

    private void ResetBlock()
    {
        _inHeaderBlock = false;
        _fragments.Clear();
        _rawFrames.Clear();
    }

    private static void CopyTo(IBufferWriter<byte> output, ReadOnlySequence<byte> bytes)
    {
        foreach (var segment in bytes) output.Write(segment.Span);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _fragments.Dispose();
        _rawFrames.Dispose();
        _encoded.Dispose();
    }
}
