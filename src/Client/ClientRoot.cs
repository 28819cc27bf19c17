using System.Diagnostics.Metrics;
using Coordination.Client.Auth;
using Coordination.Client.Cluster;
using Coordination.Client.Diagnostics;
using Coordination.Client.Kv;
using Coordination.Client.Lease;
using Coordination.Client.Maintenance;
using Coordination.Client.Transport;
using Coordination.Client.Watch;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coordination.Client;

/// <summary>The composition root of one client: transport, the per-service clients, and the background loops.</summary>
internal sealed class ClientRoot : ICoordinationClient
{
    private readonly ILogger _logger;
    private readonly ClientTelemetry _telemetry;
    private readonly EndpointPool _pool;
    private readonly WatchHub _watch;
    private readonly LeaseKeepAliveHub _keepAlive;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sync;
    private int _disposed;

    public ClientRoot(CoordinationClientOptions options, ILoggerFactory loggerFactory, IMeterFactory? meterFactory)
    {
        _logger = loggerFactory.CreateLogger("Coordination.Client");
        _telemetry = new ClientTelemetry(meterFactory);
        _pool = new EndpointPool(new ChannelFactory(options, loggerFactory), options, _logger);
        Runner = new CallRunner(options, _pool, new AuthTokenProvider(options, _logger), _telemetry, _logger);
        Kv = new KvClient(Runner);
        _watch = new WatchHub(Runner, options, _telemetry, _logger);
        _keepAlive = new LeaseKeepAliveHub(Runner, options, _telemetry, _logger);
        Lease = new LeaseClient(Runner, _keepAlive, options);
        Cluster = new ClusterClient(Runner);
        Maintenance = new MaintenanceClient(Runner);
        Auth = new AuthClient(Runner);
        // The timer starts now, on the injected clock (not when the loop's task first runs).
        _sync = options.EndpointSyncInterval is { } interval && interval > TimeSpan.Zero
            ? SyncLoopAsync(new PeriodicTimer(interval, options.TimeProvider), _stop.Token)
            : Task.CompletedTask;
    }

    internal CallRunner Runner { get; }

    internal WatchHub WatchHub => _watch;

    internal LeaseKeepAliveHub KeepAliveHub => _keepAlive;

    public IKvClient Kv { get; }

    public IWatchClient Watch => _watch;

    public ILeaseClient Lease { get; }

    public IClusterClient Cluster { get; }

    public IMaintenanceClient Maintenance { get; }

    public IAuthClient Auth { get; }

    public IReadOnlyList<string> Endpoints => _pool.Addresses;

    public async Task SyncEndpointsAsync(CancellationToken cancellationToken = default)
    {
        var members = await Cluster.ListAsync(cancellationToken).ConfigureAwait(false);
        var urls = members.Where(m => !m.IsLearner).SelectMany(m => m.ClientUrls).ToList();
        if (urls.Count > 0)
        {
            _pool.Replace(urls);
        }
    }

    private async Task SyncLoopAsync(PeriodicTimer timer, CancellationToken stop)
    {
        using var _ = timer;
        await Task.Yield();
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    await SyncEndpointsAsync(stop).ConfigureAwait(false);
                }
                catch (EtcdException e)
                {
                    Log.EndpointSyncFailed(_logger, e);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _sync.ConfigureAwait(false);
        await _watch.DisposeAsync().ConfigureAwait(false);
        await _keepAlive.DisposeAsync().ConfigureAwait(false);
        _pool.Dispose();
        _telemetry.Dispose();
        _stop.Dispose();
    }
}
