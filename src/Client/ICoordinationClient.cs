using Coordination.Client.Auth;
using Coordination.Client.Cluster;
using Coordination.Client.Kv;
using Coordination.Client.Lease;
using Coordination.Client.Maintenance;
using Coordination.Client.Watch;

namespace Coordination.Client;

/// <summary>
/// A long-lived, thread-safe connection to an etcd v3 cluster (ours or etcd's): one per application.
/// Create it with <see cref="CoordinationClient.Create(CoordinationClientOptions, Microsoft.Extensions.Logging.ILoggerFactory?, System.Diagnostics.Metrics.IMeterFactory?)"/> or register it with
/// <see cref="CoordinationClientServiceCollectionExtensions.AddCoordinationClient(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{CoordinationClientOptions})"/>.
/// </summary>
public interface ICoordinationClient : IAsyncDisposable
{
    /// <summary>Keys, values, ranges, transactions and compaction.</summary>
    IKvClient Kv { get; }

    /// <summary>Watches over keys and prefixes, multiplexed on one stream.</summary>
    IWatchClient Watch { get; }

    /// <summary>Leases and their keep-alive.</summary>
    ILeaseClient Lease { get; }

    /// <summary>Cluster membership.</summary>
    IClusterClient Cluster { get; }

    /// <summary>Status, alarms, defragmentation, hashes, leader moves and snapshots.</summary>
    IMaintenanceClient Maintenance { get; }

    /// <summary>Users, roles, permissions and enabling authentication.</summary>
    IAuthClient Auth { get; }

    /// <summary>The endpoints the client currently spreads calls over.</summary>
    IReadOnlyList<string> Endpoints { get; }

    /// <summary>Replaces the endpoint list with the client URLs of the cluster's current members.</summary>
    Task SyncEndpointsAsync(CancellationToken cancellationToken = default);
}
