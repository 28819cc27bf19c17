using System.Buffers;
using System.IO.Pipelines;
using Coordination.Server.Hosting.Http2;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Coordination.Server.Hosting;

/// <summary>
/// Connection filter for HTTP/2 prior-knowledge connections that makes Kestrel accept the
/// <c>:authority</c> grpc-go sends for targets like <c>passthrough:///http://127.0.0.1:2379</c>
/// (etcdctl 3.4 dials its per-endpoint maintenance calls that way): the value
/// <c>http://127.0.0.1:2379</c> is not a valid host, so Kestrel resets the stream with
/// PROTOCOL_ERROR, while etcd (Go's HTTP/2 server) accepts it. Kestrel has no option to relax that.
/// </summary>
/// <remarks>
/// <para>The filter replaces <see cref="ConnectionContext.Transport"/> with a duplex pipe whose output
/// is the original one (server-to-client bytes pass untouched) and whose input is produced by a pump
/// that feeds the client's bytes through <see cref="Http2InboundRewriter"/>: every header block is
/// HPACK-decoded (keeping the client's dynamic table), re-encoded without Huffman coding or dynamic
/// table use, with a URL-shaped <c>:authority</c>/<c>host</c> cut down to <c>host[:port]</c>, and
/// re-framed; all other frames are copied through as they arrive.</para>
/// <para>Frames are emitted at most 16384 bytes long, the minimum SETTINGS_MAX_FRAME_SIZE, and header
/// frames above that size are not accepted from the client: this matches Kestrel's default
/// <c>Limits.Http2.MaxFrameSize</c>, which the host does not change. The dynamic table limit is the
/// HTTP/2 default 4096, Kestrel's default <c>Limits.Http2.HeaderTableSize</c>.</para>
/// </remarks>
internal sealed class Http2AuthorityRewriter : IDuplexPipe, IAsyncDisposable
{
    private readonly ConnectionContext _connection;
    private readonly IDuplexPipe _original;
    private readonly Pipe _pipe;
    private readonly Http2InboundRewriter _rewriter = new();
    private readonly Task _pump;
    private volatile bool _stopping;

    private Http2AuthorityRewriter(ConnectionContext connection)
    {
        _connection = connection;
        _original = connection.Transport;
        var pool = connection.Features.Get<IMemoryPoolFeature>()?.MemoryPool ?? MemoryPool<byte>.Shared;
        _pipe = new Pipe(new PipeOptions(
            pool: pool,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 1024 * 1024,
            resumeWriterThreshold: 512 * 1024,
            useSynchronizationContext: false));
        connection.Transport = this;
        _pump = PumpAsync();
    }

    /// <summary>The rewritten client-to-server stream, read by Kestrel.</summary>
    public PipeReader Input => _pipe.Reader;

    /// <summary>The original server-to-client stream.</summary>
    public PipeWriter Output => _original.Output;

    /// <summary>
    /// Installs the filter on <paramref name="connection"/>, whose input must start with the HTTP/2
    /// client preface. Dispose the result once the connection has been handled.
    /// </summary>
    public static Http2AuthorityRewriter Attach(ConnectionContext connection) => new(connection);

    private async Task PumpAsync()
    {
        await Task.Yield();
        var input = _original.Input;
        var writer = _pipe.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                if (_stopping) break;
                var buffer = result.Buffer;
                var consumed = _rewriter.Process(buffer, writer);
                input.AdvanceTo(consumed, buffer.End);
                var flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || result.IsCompleted || _stopping) break;
            }
        }
        catch (Exception ex)
        {
            // Connection reset or aborted: Kestrel sees the same exception from its input.
            error = ex;
        }
        finally
        {
            await writer.CompleteAsync(error).ConfigureAwait(false);
            _rewriter.Dispose();
        }
    }

    /// <summary>Stops the pump and puts the original transport back on the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        _stopping = true;
        _original.Input.CancelPendingRead();
        await _pump.ConfigureAwait(false);
        await _pipe.Reader.CompleteAsync().ConfigureAwait(false);
        if (ReferenceEquals(_connection.Transport, this)) _connection.Transport = _original;
    }
}
