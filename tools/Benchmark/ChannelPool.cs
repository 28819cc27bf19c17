using System.Net;
using Grpc.Net.Client;

namespace Coordination.Benchmark;

/// <summary>
/// The <c>--conns</c> gRPC channels, channel <c>j</c> pointing at endpoint <c>j mod endpoints</c>. Client <c>i</c>
/// uses channel <c>i mod conns</c>, so clients spread round-robin over channels and endpoints.
/// </summary>
internal sealed class ChannelPool : IDisposable
{
    private readonly GrpcChannel[] _channels;
    private readonly int _endpoints;

    public ChannelPool(IReadOnlyList<string> endpoints, int conns)
    {
        _channels = new GrpcChannel[conns];
        _endpoints = endpoints.Count;
        for (var j = 0; j < conns; j++)
        {
            var endpoint = endpoints[j % endpoints.Count];
            if (!endpoint.Contains("://", StringComparison.Ordinal))
            {
                endpoint = "http://" + endpoint;
            }

            _channels[j] = GrpcChannel.ForAddress(endpoint, new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler
                {
                    EnableMultipleHttp2Connections = true,
                    PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                    KeepAlivePingDelay = TimeSpan.FromSeconds(60),
                    KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
                    ConnectTimeout = TimeSpan.FromSeconds(5),
                },
                HttpVersion = HttpVersion.Version20,
                MaxReceiveMessageSize = 64 * 1024 * 1024,
            });
        }
    }

    public int Count => _channels.Length;

    public GrpcChannel ForClient(int clientIndex) => _channels[clientIndex % _channels.Length];

    /// <summary>The index, in the endpoint list, of the member client <paramref name="clientIndex"/> talks to.</summary>
    public int EndpointOfClient(int clientIndex) => clientIndex % _channels.Length % _endpoints;

    public void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }
}
