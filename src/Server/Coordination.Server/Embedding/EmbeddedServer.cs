using System.Net;
using System.Net.Sockets;
using Coordination.Server.Hosting;

namespace Coordination.Server.Embedding;

/// <summary>
/// A single-member server inside the calling process, for fast tests: listens on a free loopback
/// port, keeps its data in a temporary directory of its own, and removes it when disposed.
/// <code>await using var server = await EmbeddedServer.StartAsync();</code>
/// then point a client at <see cref="Endpoint"/>.
/// </summary>
public sealed class EmbeddedServer : IAsyncDisposable
{
    private const int StartAttempts = 5;
    private readonly ServerHost _host;
    private readonly string _dataDir;
    private readonly bool _ownsDataDir;

    private EmbeddedServer(ServerHost host, Uri endpoint, string dataDir, bool ownsDataDir)
    {
        _host = host;
        Endpoint = endpoint;
        _dataDir = dataDir;
        _ownsDataDir = ownsDataDir;
    }

    /// <summary>The client URL, <c>http://127.0.0.1:&lt;port&gt;</c>.</summary>
    public Uri Endpoint { get; }

    /// <summary>The client URL as a string without a trailing slash, as client options take it.</summary>
    public string EndpointString => Endpoint.ToString().TrimEnd('/');

    /// <summary>The data directory (a fresh temporary one unless <see cref="EmbeddedServerOptions.DataDir"/> was given).</summary>
    public string DataDir => _dataDir;

    /// <summary>Starts a member on a free loopback port; ready to serve when the task completes.</summary>
    public static Task<EmbeddedServer> StartAsync(CancellationToken cancellationToken = default) =>
        StartAsync(new EmbeddedServerOptions(), cancellationToken);

    /// <summary>Starts a member with <paramref name="options"/> on a free loopback port.</summary>
    public static async Task<EmbeddedServer> StartAsync(EmbeddedServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var ownsDataDir = options.DataDir is null;
        var dataDir = options.DataDir ?? Path.Combine(Path.GetTempPath(), $"coordination-embedded-{Guid.NewGuid():N}");
        for (var attempt = 1; ; attempt++)
        {
            // Another process may take the port between probing and binding: try a few ports.
            var clientPort = FreeLoopbackPort();
            var peerPort = FreeLoopbackPort();
            var client = new Uri($"http://127.0.0.1:{clientPort}");
            var peer = new Uri($"http://127.0.0.1:{peerPort}");
            var serverOptions = new ServerOptions
            {
                Name = options.Name,
                DataDir = dataDir,
                ListenClientUrls = [client],
                AdvertiseClientUrls = [client],
                ListenPeerUrls = [peer],
                InitialAdvertisePeerUrls = [peer],
                InitialCluster = [(options.Name, peer)],
                LogLevel = options.LogLevel,
                SnapshotCount = options.SnapshotCount,
            };
            try
            {
                var host = await ServerHost.StartAsync(serverOptions, options.TimeProvider ?? TimeProvider.System, cancellationToken).ConfigureAwait(false);
                return new EmbeddedServer(host, client, dataDir, ownsDataDir);
            }
            catch (StartupException) when (attempt < StartAttempts)
            {
                // port taken meanwhile: next attempt
            }
            catch
            {
                if (ownsDataDir) TryDelete(dataDir);
                throw;
            }
        }
    }

    /// <summary>Stops the member and deletes its data directory if it created it.</summary>
    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync().ConfigureAwait(false);
        if (_ownsDataDir) TryDelete(_dataDir);
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void TryDelete(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (IOException) { /* best effort: a temporary directory */ }
        catch (UnauthorizedAccessException) { /* best effort */ }
    }
}
