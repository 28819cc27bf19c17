using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace Coordination.Server.Peer;

/// <summary>
/// Kestrel's socket transport, with one difference on the peer URLs: their connections run Kestrel's
/// HTTP/2 processing inline, on the thread that completed the socket read, instead of handing each
/// read to Kestrel's I/O queue first. One thread-pool hop remains (Kestrel hands a stream's request
/// body to its reader through the pool), after which the peer service parses the frame and writes it
/// into the node loop's inbox. Client connections keep the default scheduling.
/// </summary>
/// <remarks>
/// Every message of a replicated write crosses a peer connection twice (the append to a follower,
/// its acknowledgement back) and each thread hand-off costs a wake-up that, with a cluster's three
/// processes on two cores, is often the slowest step of a 1-client write. The peer service does no
/// blocking work on these connections: it parses a frame and queues it. With socket completions also
/// run inline (Program sets <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> for the server
/// executable), the socket's event thread does that processing itself: two hand-offs fewer per frame.
/// Measured on our 3-member cluster alone, 2 cores, one client putting to the leader, 20,000 puts
/// per run: p99 0.95-1.34 ms (median of 9 runs 1.17) and 1,590-2,030 puts/s, against 1.13-1.58 ms
/// (median of 6 runs 1.36) and 1,570-1,850 puts/s without either; 64 clients unchanged within noise.
/// </remarks>
internal sealed class PeerListenerFactory : IConnectionListenerFactory
{
    private readonly SocketTransportFactory _clients;
    private readonly SocketTransportFactory _peers;
    private readonly HashSet<EndPoint> _peerEndpoints;

    public PeerListenerFactory(IEnumerable<EndPoint> peerEndpoints, IOptions<SocketTransportOptions> options, ILoggerFactory loggers)
    {
        _peerEndpoints = [.. peerEndpoints];
        _clients = new SocketTransportFactory(options, loggers);
        var defaults = options.Value;
        _peers = new SocketTransportFactory(Options.Create(new SocketTransportOptions
        {
            UnsafePreferInlineScheduling = true,
            NoDelay = defaults.NoDelay,
            Backlog = defaults.Backlog,
            MaxReadBufferSize = defaults.MaxReadBufferSize,
            MaxWriteBufferSize = defaults.MaxWriteBufferSize,
        }), loggers);
    }

    /// <inheritdoc />
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        (_peerEndpoints.Contains(endpoint) ? _peers : _clients).BindAsync(endpoint, cancellationToken);
}
