namespace Coordination.Server.Hosting;

/// <summary>
/// The server's configuration, named after etcd's flags (<c>--data-dir</c> is <see cref="DataDir"/>)
/// so that operators can carry their etcd command lines and <c>ETCD_*</c> variables over.
/// </summary>
internal sealed record ServerOptions
{
    /// <summary>Human-readable member name (<c>--name</c>).</summary>
    public string Name { get; init; } = "default";

    /// <summary>Where the write-ahead log and snapshots live (<c>--data-dir</c>).</summary>
    public string DataDir { get; init; } = "data";

    /// <summary>URLs to serve clients on (<c>--listen-client-urls</c>).</summary>
    public IReadOnlyList<Uri> ListenClientUrls { get; init; } = [new("http://127.0.0.1:2379")];

    /// <summary>URLs advertised to clients (<c>--advertise-client-urls</c>).</summary>
    public IReadOnlyList<Uri> AdvertiseClientUrls { get; init; } = [new("http://127.0.0.1:2379")];

    /// <summary>URLs to serve peers on (<c>--listen-peer-urls</c>).</summary>
    public IReadOnlyList<Uri> ListenPeerUrls { get; init; } = [new("http://127.0.0.1:2380")];

    /// <summary>True when <c>--listen-peer-urls</c> was given: the member serves peers even while it is alone.</summary>
    public bool ListenPeerUrlsGiven { get; init; }

    /// <summary>URLs advertised to peers (<c>--initial-advertise-peer-urls</c>).</summary>
    public IReadOnlyList<Uri> InitialAdvertisePeerUrls { get; init; } = [new("http://127.0.0.1:2380")];

    /// <summary>The bootstrap membership, <c>name=peerURL,...</c> (<c>--initial-cluster</c>).</summary>
    public IReadOnlyList<(string Name, Uri PeerUrl)> InitialCluster { get; init; } = [];

    /// <summary><c>new</c> or <c>existing</c> (<c>--initial-cluster-state</c>).</summary>
    public string InitialClusterState { get; init; } = "new";

    /// <summary>Distinguishes clusters bootstrapped with the same members (<c>--initial-cluster-token</c>).</summary>
    public string InitialClusterToken { get; init; } = "etcd-cluster";

    /// <summary>Applied entries between two snapshots (<c>--snapshot-count</c>).</summary>
    public long SnapshotCount { get; init; } = 100_000;

    /// <summary>Space quota of the key-value store; 0 means the 2 GiB default (<c>--quota-backend-bytes</c>).</summary>
    public long QuotaBackendBytes { get; init; }

    /// <summary>Largest request the server accepts (<c>--max-request-bytes</c>).</summary>
    public int MaxRequestBytes { get; init; } = 1572864;

    /// <summary>Most operations in one txn level (<c>--max-txn-ops</c>).</summary>
    public int MaxTxnOps { get; init; } = 128;

    /// <summary><c>periodic</c> or <c>revision</c> (<c>--auto-compaction-mode</c>).</summary>
    public string AutoCompactionMode { get; init; } = "periodic";

    /// <summary>Retention for auto-compaction; empty or 0 disables it (<c>--auto-compaction-retention</c>).</summary>
    public string AutoCompactionRetention { get; init; } = "0";

    /// <summary>Heartbeat interval in milliseconds (<c>--heartbeat-interval</c>).</summary>
    public int HeartbeatIntervalMs { get; init; } = 100;

    /// <summary>Election timeout in milliseconds (<c>--election-timeout</c>).</summary>
    public int ElectionTimeoutMs { get; init; } = 1000;

    /// <summary>Refuse membership changes that could cost the cluster its quorum (<c>--strict-reconfig-check</c>, default true as etcd).</summary>
    public bool StrictReconfigCheck { get; init; } = true;

    /// <summary>Start from a state image saved by <c>etcdctl snapshot save</c> when the data dir is empty (<c>--restore-from-snapshot</c>, ours).</summary>
    public string? RestoreFromSnapshot { get; init; }

    /// <summary>Interval of progress notifications to watchers that asked for them (<c>--experimental-watch-progress-notify-interval</c>, default 10m).</summary>
    public TimeSpan WatchProgressNotifyInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a simple auth token stays valid without being used (<c>--auth-token-ttl</c> seconds, default 300).</summary>
    public TimeSpan AuthTokenTtl { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Log level: debug, info, warn, error (<c>--log-level</c>).</summary>
    public string LogLevel { get; init; } = "info";

    /// <summary>The quota in bytes after applying etcd's default.</summary>
    public long EffectiveQuotaBytes => QuotaBackendBytes <= 0 ? 2L * 1024 * 1024 * 1024 : QuotaBackendBytes;

    /// <summary>gRPC's receive limit: the request limit plus etcd's 512 KiB of overhead.</summary>
    public int MaxReceiveMessageBytes => MaxRequestBytes + 512 * 1024;
}
