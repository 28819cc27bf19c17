using Coordination.Raft;
using Coordination.Server.Auth;
using Coordination.Raft.Protocol;
using Coordination.Server.Concurrency;
using Coordination.Server.Cluster;
using Coordination.Server.Peer;
using Coordination.Server.Lease;
using Coordination.Server.Services;
using Coordination.Server.Services.Binding;
using Coordination.Server.Node;
using Coordination.Server.StateMachine;
using Coordination.Server.Storage.Snapshots;
using Coordination.Server.Storage.Wal;
using Coordination.Server.Watch;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Coordination.Server.Hosting;

/// <summary>
/// The composition root of one member: recovers state from the data directory (newest valid
/// snapshot, then the write-ahead log), starts the node loop, and serves the etcd API on the
/// client URLs. Disposing stops serving, then the node loop, then closes the log.
/// </summary>
internal sealed class ServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly RaftHost _raftHost;
    private readonly WriteAheadLog _wal;
    private readonly AutoCompactor _autoCompactor;
    private readonly LeaseExpiry _leaseExpiry;
    private readonly ILogger _logger;
    private readonly PeerTransport _transport;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _peerStreamsEnd;

    private ServerHost(WebApplication app, RaftHost raftHost, WriteAheadLog wal, AutoCompactor autoCompactor, LeaseExpiry leaseExpiry, ILogger logger, PeerTransport transport,
        CancellationTokenSource peerStreamsEnd)
    {
        _peerStreamsEnd = peerStreamsEnd;
        _transport = transport;
        _leaseExpiry = leaseExpiry;
        _app = app;
        _raftHost = raftHost;
        _wal = wal;
        _autoCompactor = autoCompactor;
        _logger = logger;
    }

    /// <summary>The node façade (for in-process hosting and tests).</summary>
    public CoordinationNode Node => _app.Services.GetRequiredService<CoordinationNode>();

    /// <summary>The watch hub (for in-process hosting and tests).</summary>
    public WatchHub Watches => _app.Services.GetRequiredService<WatchHub>();

    /// <summary>The addresses the server listens on for clients.</summary>
    public IReadOnlyList<Uri> ClientUrls { get; private set; } = [];

    /// <summary>Recovers and starts a member; throws <see cref="StartupException"/> when it must not start.</summary>
    public static async Task<ServerHost> StartAsync(ServerOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        // No configuration file is read, so none is watched: a watcher on the content root (the working
        // directory, where ./data usually lives) would wake on every write-ahead log append.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        ConfigureLogging(builder, options);
        var loggerFactory = LoggerFactory.Create(l => ConfigureLoggingBuilder(l, options));
        var logger = loggerFactory.CreateLogger<ServerHost>();

        var memberDir = Path.Combine(Path.GetFullPath(options.DataDir), "member");
        var walDir = Path.Combine(memberDir, "wal");
        var snapDir = Path.Combine(memberDir, "snap");
        Directory.CreateDirectory(snapDir);

        var identity = MemberIdentity.Derive(options.Name, options.InitialAdvertisePeerUrls, options.InitialCluster, options.InitialClusterToken);
        var bootstrap = await ClusterBootstrap.ResolveAsync(options, identity, memberDir, logger, cancellationToken).ConfigureAwait(false);
        // A member that joined an existing cluster carries that cluster's id, not one derived from its flags.
        identity = identity with { ClusterId = bootstrap.ClusterId };
        var servesPeers = options.ListenPeerUrlsGiven || bootstrap.Members.Count > 1 || options.InitialClusterState == "existing";
        var snapshotter = new Snapshotter(snapDir, loggerFactory.CreateLogger<Snapshotter>());
        if (options.RestoreFromSnapshot is { } restoreFile) SnapshotRestore.Seed(restoreFile, snapshotter, walDir, identity, logger);

        var watchHub = new WatchHub(new WatchHubOptions { ProgressNotifyInterval = options.WatchProgressNotifyInterval }, time);
        var tokens = new SimpleTokens(time, options.AuthTokenTtl);
        ServerStateMachine stateMachine;
        SnapshotMetadata? snapshotMeta = null;
        if (snapshotter.TryLoadNewest(out var snapshot))
        {
            snapshotMeta = snapshot.Metadata;
            using (var image = snapshot.OpenImage()) stateMachine = ServerStateMachine.Restore(image, options, watchHub, tokens);
            // An image from another cluster (etcdctl snapshot restore) or from before the member table
            // existed: the snapshot's configuration is this member's, the table comes from the flags.
            var imageMembers = stateMachine.Members.Members.Keys.Order().ToList();
            var metaMembers = snapshotMeta.ConfState?.Voters.Concat(snapshotMeta.ConfState.Learners).Order().ToList() ?? [];
            if (imageMembers.Count == 0 || !imageMembers.SequenceEqual(metaMembers))
                stateMachine.Members.Reset(bootstrap.Members.Where(m => metaMembers.Count == 0 || metaMembers.Contains(m.Id)), []);
            logger.LogInformation("recovered state from snapshot at index {Index} (term {Term})", snapshotMeta.Index, snapshotMeta.Term);
        }
        else
        {
            stateMachine = new ServerStateMachine(options, watchHub, tokens);
            stateMachine.Members.Reset(bootstrap.Members, []);
        }
        watchHub.Attach(stateMachine.Store);

        WriteAheadLog wal;
        WalReplay replay;
        try
        {
            wal = WriteAheadLog.Open(walDir, new WalOptions(), loggerFactory.CreateLogger<WriteAheadLog>(),
                snapshotMeta is null ? null : new WalReplayStart(snapshotMeta.Index, snapshotMeta.Term), out replay);
        }
        catch (WalCorruptedException ex)
        {
            throw new StartupException($"the write-ahead log in {walDir} is corrupt: {ex.Message}. Refusing to start; restore this member from a snapshot or a healthy member.", ex);
        }
        logger.LogInformation("replaying {Count} log entries after index {Index}", replay.Entries.Count, snapshotMeta?.Index ?? 0);

        var raftConfig = new RaftConfig
        {
            Id = identity.MemberId,
            Voters = bootstrap.Members.Where(m => !m.IsLearner).Select(m => m.Id).ToList(),
            Learners = bootstrap.Members.Where(m => m.IsLearner).Select(m => m.Id).ToList(),
            ElectionTicks = Math.Max(2, options.ElectionTimeoutMs / options.HeartbeatIntervalMs),
            HeartbeatTicks = 1,
            Seed = unchecked((int)identity.MemberId),
        };
        var raft = new RaftNode(raftConfig, replay.HardState ?? new HardState(), snapshotMeta, replay.Entries);
        var snapshotWriter = new SnapshotWriter(snapshotter, options.SnapshotCount, snapshotMeta?.Index ?? 0, time, loggerFactory.CreateLogger<SnapshotWriter>());
        // The expiry schedule follows the lease table from here on (snapshot, then replayed entries).
        var leaseExpiry = new LeaseExpiry(time, LeaseExpiry.DefaultCheckInterval, loggerFactory.CreateLogger<LeaseExpiry>());
        foreach (var (leaseId, ttlSeconds) in stateMachine.Leases.All()) leaseExpiry.Granted(leaseId, ttlSeconds);
        stateMachine.Leases.Observer = leaseExpiry;
        var transport = new PeerTransport(identity.MemberId, stateMachine.Members, snapshotter, loggerFactory, time);
        var raftHost = new RaftHost(raft, wal, stateMachine, snapshotWriter, TimeSpan.FromMilliseconds(options.HeartbeatIntervalMs), time,
            loggerFactory.CreateLogger<RaftHost>(), snapshotter, transport,
            requestTimeout: TimeSpan.FromMilliseconds(5000 + 2 * options.ElectionTimeoutMs))
        {
            // Watchers keep reading the same store object; synced ones catch up from its new history.
            SnapshotInstalled = watchHub.StoreRestored,
        };
        transport.Host = raftHost;
        var peerStreamsEnd = new CancellationTokenSource();
        var node = new CoordinationNode(options, identity, raftHost, stateMachine, leaseExpiry, new LeaseIdGenerator(new Random()))
        {
            PeerStreamsEnded = peerStreamsEnd.Token,
            LeaderRenewer = transport.RenewOnLeaderAsync,
            LeaderRemaining = transport.RemainingOnLeaderAsync,
            PeerActiveSince = transport.ActiveSince,
            Time = time,
        };
        // Keep-alives went to the previous leader: a new leader gives every lease its full TTL again.
        raftHost.BecameLeader = leaseExpiry.RenewAll;
        await node.WaitUntilCaughtUpAsync(cancellationToken).ConfigureAwait(false);
        // A single voter leads from start-up: every lease gets its full TTL again, then expires on this clock.
        leaseExpiry.Start(node.RevokeExpiredAsync);

        // Streams that never end by themselves (watch, keep-alive) are ended when the member stops, but a
        // read grpc-dotnet leaves pending can still hold a request open; bound the wait for requests so a
        // stopping member never waits the host's default 30 s (Docker kills after 10 s).
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(3));
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(node);
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(watchHub);
        builder.Services.AddSingleton<IKeyWatcher>(watchHub);
        builder.Services.AddSingleton(new Locks(node, watchHub));
        builder.Services.AddSingleton(new Elections(node, watchHub));
        builder.Services.AddSingleton(new AuthGate(stateMachine.Auth, tokens, stateMachine.Leases));
        builder.Services.AddSingleton(new LearnerGate(node));
        builder.Services.AddSingleton<ClientCallInterceptor>();
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = options.MaxReceiveMessageBytes;
            o.MaxSendMessageSize = null;
            o.Interceptors.Add<ClientCallInterceptor>();
        });
        builder.Services.AddGrpc().AddServiceOptions<PeerService>(o =>
        {
            o.MaxReceiveMessageSize = null;
            o.Interceptors.Clear();
        });
        builder.Services.UseEtcdServiceBinding();
        if (servesPeers)
        {
            var peerEndpoints = options.ListenPeerUrls.Select(u => (System.Net.EndPoint)new System.Net.IPEndPoint(ListenAddress(u), u.Port)).ToList();
            builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IConnectionListenerFactory>(sp => new PeerListenerFactory(peerEndpoints,
                sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions>>(),
                sp.GetRequiredService<ILoggerFactory>()));
        }
        builder.WebHost.ConfigureKestrel(k =>
        {
            // h2c requests carry :scheme http on connections we mark as negotiated h2.
            k.AllowAlternateSchemes = true;
            k.Limits.MaxRequestBodySize = null;
            k.Limits.Http2.MaxStreamsPerConnection = 1000;
            foreach (var url in options.ListenClientUrls)
            {
                var address = url.Host is "localhost" ? System.Net.IPAddress.Loopback
                    : url.Host is "0.0.0.0" or "*" or "" ? System.Net.IPAddress.Any
                    : System.Net.IPAddress.Parse(url.Host.Trim('[', ']'));
                k.Listen(address, url.Port, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.Use(Http2PriorKnowledge.Middleware);
                });
            }
            if (!servesPeers) return;
            foreach (var url in options.ListenPeerUrls)
            {
                // Peers speak h2c with prior knowledge (our transport's gRPC client).
                k.Listen(ListenAddress(url), url.Port, listen => listen.Protocols = HttpProtocols.Http2);
            }
        });

        var app = builder.Build();
        // etcd's removed member stops serving; so does ours.
        raftHost.SelfRemoved = () => app.Lifetime.StopApplication();
        // A leader that is asked to stop hands over first, while its peer endpoint still serves (these
        // callbacks run before the servers stop), so the others need not hold an election.
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            try
            {
                var handedTo = node.HandOverLeadershipAsync(TimeSpan.FromMilliseconds(2 * options.ElectionTimeoutMs)).GetAwaiter().GetResult();
                if (handedTo != 0) logger.LogInformation("handed leadership to member {Member:x} before stopping", handedTo);
            }
            finally
            {
                peerStreamsEnd.Cancel();
            }
        });
        app.Use(GrpcMethodGate.ForEtcdApi().Middleware);
        app.MapGrpcService<KvService>();
        app.MapGrpcService<MaintenanceService>();
        app.MapGrpcService<ClusterService>();
        if (servesPeers) app.MapGrpcService<PeerService>().RequireHost(options.ListenPeerUrls.Select(u => $"*:{u.Port}").ToArray());
        app.MapGrpcService<WatchService>();
        app.MapGrpcService<LeaseService>();
        app.MapGrpcService<AuthService>();
        app.MapGrpcService<LockService>();
        app.MapGrpcService<ElectionService>();
        HttpEndpoints.Map(app);

        var autoCompactor = new AutoCompactor(AutoCompaction.ParseRetention(options.AutoCompactionMode, options.AutoCompactionRetention), node, time, loggerFactory.CreateLogger<AutoCompactor>());
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            await autoCompactor.DisposeAsync().ConfigureAwait(false);
            await leaseExpiry.DisposeAsync().ConfigureAwait(false);
            await raftHost.DisposeAsync().ConfigureAwait(false);
            wal.Dispose();
            peerStreamsEnd.Dispose();
            throw new StartupException($"cannot listen on {string.Join(",", options.ListenClientUrls)}: {ex.Message}", ex);
        }
        logger.LogInformation("ready to serve client requests on {Urls} (member {MemberId:x}, cluster {ClusterId:x})",
            string.Join(",", options.ListenClientUrls), identity.MemberId, identity.ClusterId);
        if (servesPeers) logger.LogInformation("serving peers on {Urls}", string.Join(",", options.ListenPeerUrls));
        var host = new ServerHost(app, raftHost, wal, autoCompactor, leaseExpiry, logger, transport, peerStreamsEnd) { ClientUrls = options.ListenClientUrls };
        _ = node.PublishAttributesAsync(host._stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        if (servesPeers)
        {
            var removalCheck = new RemovalCheck(identity.MemberId, identity.ClusterId, () => raftHost.Leader,
                () => stateMachine.Members.Members.Keys, transport.ClusterOfAsync, () => app.Lifetime.StopApplication(),
                TimeSpan.FromMilliseconds(options.ElectionTimeoutMs), time, loggerFactory.CreateLogger<RemovalCheck>());
            _ = removalCheck.RunAsync(host._stopping.Token);
        }
        return host;
    }

    /// <summary>Completes when the host is asked to stop (SIGTERM, Ctrl-C).</summary>
    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    /// <summary>Stops serving, drains the node loop and closes the log.</summary>
    public async ValueTask DisposeAsync()
    {
        _logger.LogInformation("stopping");
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _app.StopAsync().ConfigureAwait(false);
        await _autoCompactor.DisposeAsync().ConfigureAwait(false);
        await _leaseExpiry.DisposeAsync().ConfigureAwait(false);
        await _raftHost.DisposeAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
        _wal.Dispose();
        await _app.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _peerStreamsEnd.Dispose();
    }

    private static System.Net.IPAddress ListenAddress(Uri url) =>
        url.Host is "localhost" ? System.Net.IPAddress.Loopback
        : url.Host is "0.0.0.0" or "*" or "" ? System.Net.IPAddress.Any
        : System.Net.IPAddress.Parse(url.Host.Trim('[', ']'));

    private static void ConfigureLogging(WebApplicationBuilder builder, ServerOptions options)
    {
        builder.Logging.ClearProviders();
        ConfigureLoggingBuilder(builder.Logging, options);
    }

    private static void ConfigureLoggingBuilder(ILoggingBuilder logging, ServerOptions options)
    {
        logging.AddJsonConsole(o => o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ");
        logging.SetMinimumLevel(options.LogLevel switch
        {
            "debug" => LogLevel.Debug,
            "warn" => LogLevel.Warning,
            "error" => LogLevel.Error,
            _ => LogLevel.Information,
        });
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // Off entirely: while this category is enabled at any level, hosting starts an Activity and a
        // log scope for every request (allocations on the hot path). Above Warning it would log only
        // a failed start, which reaches StartAsync's caller as an exception anyway.
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        logging.AddFilter("Grpc", LogLevel.Warning);
    }
}
