using System.Buffers;
using System.Net.Sockets;
using Coordination.Raft.Protocol;
using Coordination.Server.Peer.Protocol;
using Google.Protobuf;

namespace Coordination.Server.Peer;

/// <summary>
/// Messages to one peer over a long-lived client-streaming <c>Peer.Send</c> call on h2c
/// (<see cref="H2cClientStream"/>). The node loop writes each batch itself, with a non-blocking send:
/// a message leaves without waiting for another thread. While no call is open (connecting, or after a
/// failure) messages wait in a bounded list; when the call fails they are dropped, the core is told
/// the peer is unreachable, and the call is opened again after a backoff (50 ms doubling to 1 s).
/// A connection the peer's host refuses means its process is gone: the core is told so too
/// (<see cref="Raft.RaftNode.ReportPeerDown"/>), so that a leader's crash is noticed within tens of
/// milliseconds: the first reconnection follows the failed call by 50 ms.
/// A MsgSnap's image is streamed from the snapshot file ahead of it, off the node loop, in chunks of
/// <see cref="SnapshotChunkBytes"/>; the messages after it wait until it has been written, and its
/// outcome is reported to the core.
/// </summary>
internal sealed class PeerStream : IAsyncDisposable
{
    private const int MaxWaiting = 4096;
    private const long MaxUnsentBytes = 64L * 1024 * 1024;
    /// <summary>The size of the pieces a snapshot image is sent in.</summary>
    internal const int SnapshotChunkBytes = 1 << 20;
    private static readonly string SendPath = $"/{Protocol.Peer.Descriptor.FullName}/Send";
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    private readonly ulong _peer;
    private readonly PeerTransport _transport;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    // Guarded by _gate: the open call (null while none), the messages waiting for one (or for the
    // snapshot at their head to be read), and whether that snapshot is being read.
    private H2cClientStream? _call;
    private DateTimeOffset _callOpened;
    private readonly List<Message> _waiting = new();
    private bool _snapshotPending;
    private readonly SemaphoreSlim _snapshotReady = new(0);
    // Guarded by _gate: the frame and its encoding, reused for every batch.
    private readonly PeerFrame _frame = new();
    private readonly ArrayBufferWriter<byte> _encoded = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    public PeerStream(ulong peer, PeerTransport transport, TimeProvider time, ILogger<PeerStream> logger)
    {
        _peer = peer;
        _transport = transport;
        _time = time;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>When the open call to the peer was established; null while none is open (any thread).</summary>
    public DateTimeOffset? ConnectedSince
    {
        get { lock (_gate) return _call is null ? null : _callOpened; }
    }

    /// <summary>
    /// Sends <paramref name="messages"/> in order (node loop); false, and nothing is sent, when they
    /// cannot be queued: too many wait for a call, or the open call has too much unsent.
    /// </summary>
    public bool TrySend(IReadOnlyList<Message> messages)
    {
        lock (_gate)
        {
            // Messages wait while no call is open or a snapshot is read; otherwise they leave at once.
            var mustWait = _call is null || _snapshotPending;
            if (mustWait ? _waiting.Count + messages.Count > MaxWaiting : _call!.Unsent > MaxUnsentBytes) return false;
            _waiting.AddRange(messages);
            if (!mustWait) WriteWaitingLocked(_call!);
            return true;
        }
    }

    /// <summary>Writes the waiting messages, in one frame, up to a snapshot (which is read off this thread).</summary>
    private void WriteWaitingLocked(H2cClientStream call)
    {
        var taken = 0;
        foreach (var message in _waiting)
        {
            if (message.Type == MessageType.MsgSnap)
            {
                _snapshotPending = true;
                _snapshotReady.Release();
                break;
            }
            _frame.Batch.Add(message);
            taken++;
        }
        if (taken == 0) return;
        _waiting.RemoveRange(0, taken);
        _encoded.ResetWrittenCount();
        _frame.WriteTo(_encoded);
        _frame.Batch.Clear();
        call.Write(_encoded.WrittenSpan);
    }

    private async Task RunAsync()
    {
        var backoff = MinBackoff;
        var token = _stopping.Token;
        var reportedDown = false;
        Task? snapshotSignal = null;
        while (!token.IsCancellationRequested)
        {
            var url = _transport.PeerUrl(_peer);
            H2cClientStream? call = null;
            try
            {
                if (url is null) throw new InvalidOperationException("no peer URL known yet");
                call = await H2cClientStream.OpenAsync(url, SendPath, _time, ConnectTimeout, token).ConfigureAwait(false);
                lock (_gate)
                {
                    _call = call;
                    _callOpened = _time.GetUtcNow();
                    if (!_snapshotPending) WriteWaitingLocked(call);
                }
                if (reportedDown) _logger.LogInformation("peer {Peer:x} is reachable again at {Url}", _peer, url);
                reportedDown = false;
                backoff = MinBackoff;
                while (true)
                {
                    // One wait at a time, kept across calls: a second waiter could take a signal meant for this one.
                    snapshotSignal ??= _snapshotReady.WaitAsync(token);
                    if (await Task.WhenAny(call.Completion, snapshotSignal).ConfigureAwait(false) == call.Completion)
                    {
                        await call.Completion.ConfigureAwait(false); // throws why the call ended
                    }
                    await snapshotSignal.ConfigureAwait(false); // throws when stopping
                    snapshotSignal = null;
                    await SendSnapshotAsync(call).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                if (!reportedDown) _logger.LogWarning("cannot reach peer {Peer:x} at {Url}: {Message}", _peer, url, ex.Message);
                reportedDown = true;
                DropWaiting();
                // Nothing listens on the peer's port: its process is gone (a cut-off or frozen peer
                // would time out instead), and if it led, the others need not wait out an election timeout.
                if (ex is SocketException { SocketErrorCode: SocketError.ConnectionRefused }) _transport.Host?.ReportPeerDown(_peer);
                _transport.Host?.ReportUnreachable(_peer);
                try { await Task.Delay(backoff, _time, token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
            }
            finally
            {
                if (call is not null) await call.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Reads the image for the MsgSnap at the head of the waiting messages, writes it, then what waited
    /// behind it (nothing to do after a spurious signal: one whose snapshot was dropped with a call).
    /// </summary>
    private async Task SendSnapshotAsync(H2cClientStream call)
    {
        Message message;
        lock (_gate)
        {
            if (!_snapshotPending || _waiting.Count == 0) return;
            message = _waiting[0];
        }
        try
        {
            var file = _transport.SnapshotFile(message.Snapshot.Metadata)
                ?? throw new FileNotFoundException($"no snapshot file at index {message.Snapshot.Metadata.Index}, term {message.Snapshot.Metadata.Term}");
            var chunks = await SendImageAsync(call, file).ConfigureAwait(false);
            lock (_gate)
            {
                _waiting.RemoveAt(0);
                _snapshotPending = false;
                // The MsgSnap itself, its data empty (the core keeps metadata only): the receiver
                // attaches the chunks that preceded it.
                if (!call.Write(new PeerFrame { Message = message }.ToByteArray())) throw new IOException("the call to the peer ended");
                WriteWaitingLocked(call);
            }
            _logger.LogInformation("sent snapshot at index {Index} to peer {Peer:x}: {Bytes} bytes in {Chunks} chunks",
                message.Snapshot.Metadata.Index, _peer, file.ImageLength, chunks);
            _transport.Host?.ReportSnapshot(_peer, succeeded: true);
        }
        catch (Exception)
        {
            _transport.Host?.ReportSnapshot(_peer, succeeded: false);
            throw;
        }
    }

    /// <summary>
    /// Streams the snapshot image from its file in <see cref="SnapshotChunkBytes"/> pieces, each
    /// written once the call has sent all but one piece: the image is never held in memory whole,
    /// and the call's buffer stays small however large it is. Returns the number of pieces.
    /// </summary>
    private async Task<int> SendImageAsync(H2cClientStream call, Storage.Snapshots.SnapshotFile file)
    {
        var chunks = 0;
        var piece = new byte[SnapshotChunkBytes];
        var encoded = new ArrayBufferWriter<byte>(SnapshotChunkBytes + 16);
        await using var image = file.OpenImage();
        while (true)
        {
            var read = await image.ReadAtLeastAsync(piece, piece.Length, throwOnEndOfStream: false, _stopping.Token).ConfigureAwait(false);
            if (read == 0) return chunks;
            await call.WhenUnsentAtMostAsync(SnapshotChunkBytes).WaitAsync(_stopping.Token).ConfigureAwait(false);
            encoded.ResetWrittenCount();
            new PeerFrame { SnapshotChunk = UnsafeByteOperations.UnsafeWrap(piece.AsMemory(0, read)) }.WriteTo(encoded);
            if (!call.Write(encoded.WrittenSpan)) throw new IOException("the call to the peer ended");
            chunks++;
        }
    }

    private void DropWaiting()
    {
        List<Message> dropped;
        lock (_gate)
        {
            _call = null;
            _snapshotPending = false;
            dropped = [.. _waiting];
            _waiting.Clear();
        }
        foreach (var message in dropped)
        {
            if (message.Type == MessageType.MsgSnap) _transport.Host?.ReportSnapshot(_peer, succeeded: false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        try { await _loop.ConfigureAwait(false); } catch (OperationCanceledException) { }
        lock (_gate) _call = null;
        _stopping.Dispose();
        _snapshotReady.Dispose();
    }
}
