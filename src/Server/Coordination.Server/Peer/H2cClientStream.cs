using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Coordination.Server.Hosting.Http2;

namespace Coordination.Server.Peer;

/// <summary>
/// One client-streaming gRPC call over a connection of its own, speaking HTTP/2 with prior knowledge
/// (h2c) directly on a socket: the caller's thread frames a message and hands it to the kernel with a
/// non-blocking send, so nothing waits for another thread to wake up. Only what does not fit (the
/// socket buffer is full, or the peer's flow-control window is spent) goes out later, from a
/// thread-pool task.
/// </summary>
/// <remarks>
/// <para>Why not <c>Grpc.Net.Client</c>: its HTTP/2 connection writes every frame from a writer task,
/// one thread hand-off per peer message, and every replicated write sends two peer messages in turn
/// (the append, its acknowledgement). The receiving side is still Kestrel and the gRPC service.</para>
/// <para>The HTTP/2 subset: the preface and an empty SETTINGS; one stream (id 1) whose HEADERS are
/// HPACK literals without indexing; DATA frames within the peer's MAX_FRAME_SIZE and its stream and
/// connection windows; SETTINGS, PING and WINDOW_UPDATE from the peer are honoured. Anything else
/// the peer sends on the stream (response HEADERS, RST_STREAM) or on the connection (GOAWAY) ends
/// the call, as does a PING unanswered for <see cref="PingTimeout"/> after <see cref="PingInterval"/>
/// of silence.</para>
/// </remarks>
internal sealed class H2cClientStream : IAsyncDisposable
{
    internal static readonly TimeSpan PingInterval = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan PingTimeout = TimeSpan.FromSeconds(3);

    private const int FrameHeaderLength = Http2FrameHeader.Length;
    private const int DefaultWindow = 65_535;
    private const int DefaultMaxFrame = 16_384;
    private const uint StreamId = 1;
    private const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, Ping = 0x6, GoAway = 0x7, WindowUpdate = 0x8, Continuation = 0x9;
    private const byte FlagAck = 0x1, FlagEndStream = 0x1, FlagEndHeaders = 0x4;
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    private readonly Socket _socket;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    // Guarded by _gate: gRPC-framed messages not yet in DATA frames, frames of our own to send first
    // (acknowledgements), the windows the peer granted, and whether a thread is sending.
    private readonly MemoryStream _pending = new();
    private readonly MemoryStream _control = new();
    private long _connectionWindow = DefaultWindow;
    private long _streamWindow = DefaultWindow;
    private int _initialStreamWindow = DefaultWindow;
    private int _maxFrame = DefaultMaxFrame;
    private bool _sending;
    // Guarded by _gate: who waits for the unsent bytes to fall to _drainedAt or below (one at a time).
    private TaskCompletionSource? _drained;
    private long _drainedAt;
    private byte[] _out = new byte[64 * 1024];
    private long _lastHeardTicks;
    private long _pingSentTicks;

    private H2cClientStream(Socket socket, TimeProvider time)
    {
        _socket = socket;
        _time = time;
        _lastHeardTicks = time.GetTimestamp();
    }

    /// <summary>Completes (faulted) when the call ends: the peer closed or reset it, or it stopped answering pings.</summary>
    public Task Completion => _ended.Task;

    /// <summary>Connects to <paramref name="url"/> and opens a call to <paramref name="path"/> (<c>/package.Service/Method</c>).</summary>
    public static async Task<H2cClientStream> OpenAsync(Uri url, string path, TimeProvider time, TimeSpan connectTimeout, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connecting.CancelAfter(connectTimeout);
                await socket.ConnectAsync(url.Host, url.Port, connecting.Token).ConfigureAwait(false);
            }
            socket.Blocking = false;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var stream = new H2cClientStream(socket, time);
        stream.Start(url.Authority, path);
        return stream;
    }

    private void Start(string authority, string path)
    {
        var opening = new MemoryStream();
        opening.Write(Preface);
        WriteFrameHeader(opening, 0, Settings, 0, 0);
        // HPACK literals without indexing, never Huffman-coded: the re-encoder our client endpoint uses.
        using var block = new PooledByteBuffer();
        var encoder = new HeaderBlockReencoder(block);
        foreach (var (name, value) in new[]
        {
            (":method", "POST"), (":scheme", "http"), (":path", path), (":authority", authority),
            ("content-type", "application/grpc"), ("te", "trailers"),
        })
        {
            encoder.OnHeader(Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value), neverIndexed: false);
        }
        if (block.Length > DefaultMaxFrame) throw new ArgumentException("header block too large", nameof(path));
        WriteFrameHeader(opening, block.Length, Headers, FlagEndHeaders, StreamId);
        opening.Write(block.WrittenSpan);
        lock (_gate) { opening.WriteTo(_control); _sending = true; }
        _ = ReadLoopAsync();
        _ = KeepAliveAsync();
        Pump();
    }

    /// <summary>
    /// Queues one gRPC message (the serialized protobuf, unprefixed) and sends what it can at once,
    /// on this thread and without blocking. False once the call has ended.
    /// </summary>
    public bool Write(ReadOnlySpan<byte> message)
    {
        lock (_gate)
        {
            if (_ended.Task.IsCompleted) return false;
            Span<byte> prefix = stackalloc byte[5];
            prefix[0] = 0; // not compressed
            BinaryPrimitives.WriteUInt32BigEndian(prefix[1..], (uint)message.Length);
            _pending.Write(prefix);
            _pending.Write(message);
            if (_sending) return true;
            _sending = true;
        }
        Pump();
        return true;
    }

    /// <summary>Bytes queued but not yet handed to the kernel (for tests and back-pressure).</summary>
    public long Unsent
    {
        get { lock (_gate) return _pending.Length + _control.Length; }
    }

    /// <summary>
    /// Completes once at most <paramref name="bytes"/> are queued but not yet handed to the kernel (at
    /// once if that holds now); faults when the call ends. One caller at a time: a sender of many large
    /// messages waits here between them, so they never pile up in memory whole.
    /// </summary>
    public Task WhenUnsentAtMostAsync(long bytes)
    {
        lock (_gate)
        {
            if (_ended.Task.IsCompleted) return _ended.Task;
            if (_pending.Length + _control.Length <= bytes) return Task.CompletedTask;
            _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _drainedAt = bytes;
            return _drained.Task;
        }
    }

    /// <summary>
    /// Sends until nothing is left that the windows allow, by non-blocking sends on the calling thread;
    /// when the socket would block, the rest continues on a thread-pool task. Only the thread that set
    /// <see cref="_sending"/> calls this.
    /// </summary>
    private void Pump()
    {
        try
        {
            while (true)
            {
                var length = TakeFrames();
                if (length == 0) return;
                var sent = 0;
                while (sent < length)
                {
                    var n = _socket.Send(_out.AsSpan(sent, length - sent), SocketFlags.None, out var error);
                    if (error == SocketError.WouldBlock) break;
                    if (error != SocketError.Success) throw new SocketException((int)error);
                    sent += n;
                }
                if (sent < length)
                {
                    _ = SendRestAsync(sent, length);
                    return;
                }
            }
        }
        catch (Exception ex)
        {
            End(ex);
        }
    }

    private async Task SendRestAsync(int offset, int length)
    {
        try
        {
            while (offset < length) offset += await _socket.SendAsync(_out.AsMemory(offset, length - offset), SocketFlags.None, _stopping.Token).ConfigureAwait(false);
            Pump();
        }
        catch (Exception ex)
        {
            End(ex);
        }
    }

    /// <summary>
    /// Moves our control frames and as much pending data as the windows allow into <see cref="_out"/>;
    /// returns its length, or 0 (and clears <see cref="_sending"/>) when there is nothing to send.
    /// </summary>
    private int TakeFrames()
    {
        lock (_gate)
        {
            var dataAllowed = (int)Math.Min(_pending.Length, Math.Max(0, Math.Min(_connectionWindow, _streamWindow)));
            var frames = dataAllowed == 0 ? 0 : (dataAllowed + _maxFrame - 1) / _maxFrame;
            var needed = (int)_control.Length + dataAllowed + frames * FrameHeaderLength;
            if (needed == 0 || _ended.Task.IsCompleted)
            {
                _sending = false;
                return 0;
            }
            if (_out.Length < needed) _out = new byte[Math.Max(needed, _out.Length * 2)];
            var at = 0;
            _control.GetBuffer().AsSpan(0, (int)_control.Length).CopyTo(_out);
            at += (int)_control.Length;
            _control.SetLength(0);
            var source = _pending.GetBuffer().AsSpan(0, (int)_pending.Length);
            var taken = 0;
            while (taken < dataAllowed)
            {
                var size = Math.Min(_maxFrame, dataAllowed - taken);
                Http2FrameHeader.Write(_out.AsSpan(at), size, Data, 0, StreamId);
                at += FrameHeaderLength;
                source.Slice(taken, size).CopyTo(_out.AsSpan(at));
                at += size;
                taken += size;
            }
            if (taken > 0)
            {
                // Keep what did not fit the windows, at the front.
                source[taken..].CopyTo(source);
                _pending.SetLength(_pending.Length - taken);
                _connectionWindow -= taken;
                _streamWindow -= taken;
            }
            if (_drained is not null && _pending.Length <= _drainedAt)
            {
                _drained.TrySetResult();
                _drained = null;
            }
            return at;
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        var filled = 0;
        try
        {
            while (true)
            {
                var n = await _socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _stopping.Token).ConfigureAwait(false);
                if (n == 0) throw new IOException("the peer closed the connection");
                Volatile.Write(ref _lastHeardTicks, _time.GetTimestamp());
                filled += n;
                var at = 0;
                while (filled - at >= FrameHeaderLength)
                {
                    var (length, type, flags, stream) = Http2FrameHeader.Read(buffer.AsSpan(at));
                    if (length > buffer.Length - FrameHeaderLength) throw new IOException($"the peer sent a frame of {length} bytes");
                    if (filled - at < FrameHeaderLength + length) break;
                    OnFrame(type, flags, stream, buffer.AsSpan(at + FrameHeaderLength, length));
                    at += FrameHeaderLength + length;
                }
                if (at > 0)
                {
                    buffer.AsSpan(at, filled - at).CopyTo(buffer);
                    filled -= at;
                }
            }
        }
        catch (Exception ex)
        {
            End(ex);
        }
    }

    private void OnFrame(byte type, byte flags, uint stream, ReadOnlySpan<byte> payload)
    {
        var wake = false;
        switch (type)
        {
            case Settings when (flags & FlagAck) == 0:
                lock (_gate)
                {
                    for (var i = 0; i + 6 <= payload.Length; i += 6)
                    {
                        var id = BinaryPrimitives.ReadUInt16BigEndian(payload[i..]);
                        var value = BinaryPrimitives.ReadUInt32BigEndian(payload[(i + 2)..]);
                        if (id == 0x4) { _streamWindow += (long)value - _initialStreamWindow; _initialStreamWindow = (int)value; }
                        else if (id == 0x5) _maxFrame = (int)Math.Min(value, 1u << 20);
                    }
                    WriteFrameHeader(_control, 0, Settings, FlagAck, 0);
                    wake = true;
                }
                break;
            case WindowUpdate when payload.Length >= 4:
                var increment = BinaryPrimitives.ReadUInt32BigEndian(payload) & 0x7FFF_FFFF;
                lock (_gate)
                {
                    if (stream == 0) _connectionWindow += increment;
                    else if (stream == StreamId) _streamWindow += increment;
                    wake = true;
                }
                break;
            case Ping when (flags & FlagAck) == 0:
                lock (_gate)
                {
                    WriteFrameHeader(_control, payload.Length, Ping, FlagAck, 0);
                    _control.Write(payload);
                    wake = true;
                }
                break;
            case Ping:
                Volatile.Write(ref _pingSentTicks, 0);
                break;
            case GoAway:
                throw new IOException("the peer is going away (GOAWAY)");
            case RstStream when stream == StreamId:
                throw new IOException($"the peer reset the call (RST_STREAM {(payload.Length >= 4 ? BinaryPrimitives.ReadUInt32BigEndian(payload) : 0)})");
            case Headers or Continuation when stream == StreamId:
            case Data when stream == StreamId && (flags & FlagEndStream) != 0:
                throw new IOException("the peer ended the call");
        }
        if (!wake) return;
        lock (_gate)
        {
            if (_sending) return;
            _sending = true;
        }
        Pump();
    }

    private async Task KeepAliveAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(PingInterval, _time, _stopping.Token).ConfigureAwait(false);
                var sentAt = Volatile.Read(ref _pingSentTicks);
                if (sentAt != 0)
                {
                    if (_time.GetElapsedTime(sentAt) > PingTimeout) throw new TimeoutException("the peer did not answer a ping");
                    continue;
                }
                if (_time.GetElapsedTime(Volatile.Read(ref _lastHeardTicks)) < PingInterval) continue;
                Volatile.Write(ref _pingSentTicks, _time.GetTimestamp());
                lock (_gate)
                {
                    WriteFrameHeader(_control, 8, Ping, 0, 0);
                    _control.Write(new byte[8]);
                    if (_sending) continue;
                    _sending = true;
                }
                Pump();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            End(ex);
        }
    }

    private void End(Exception reason)
    {
        if (!_ended.TrySetException(reason)) return;
        lock (_gate)
        {
            _drained?.TrySetException(reason);
            _drained = null;
        }
        _stopping.Cancel();
        _socket.Dispose();
    }

    /// <summary>Ends the call (the peer sees the connection close) and releases the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        End(new ObjectDisposedException(nameof(H2cClientStream)));
        try { await _ended.Task.ConfigureAwait(false); } catch (Exception) { }
    }

    private static void WriteFrameHeader(MemoryStream to, int length, byte type, byte flags, uint stream)
    {
        Span<byte> header = stackalloc byte[FrameHeaderLength];
        Http2FrameHeader.Write(header, length, type, flags, stream);
        to.Write(header);
    }
}
