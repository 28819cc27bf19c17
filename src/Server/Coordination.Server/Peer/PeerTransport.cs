using System.Collections.Concurrent;
using Coordination.Raft.Protocol;
using Coordination.Server.Cluster;
using Coordination.Server.Node;
using Coordination.Server.Peer.Protocol;
using Coordination.Server.Storage.Snapshots;

namespace Coordination.Server.Peer;

/// <summary>
/// The outbound half of the peer transport: one <see cref="PeerStream"/> per peer, each with its own
/// long-lived client-streaming call to the peer's URL from the member table, written from the node
/// loop without blocking it. Every member keeps a stream to every other (a full mesh, as etcd), so
/// that each can tell which peers it reaches (<see cref="ActiveSince"/>). Messages a peer's stream
/// cannot take (no call open and its waiting list full, or too much unsent) are dropped and the core
/// is told the peer is unreachable (raft retransmits). The stream to a member removed from the
/// cluster closes <see cref="RetireGrace"/> after the removal is applied, and none is opened again.
/// </summary>
internal sealed class PeerTransport : IPeerSender, IAsyncDisposable
{
    private readonly ulong _self;
    private readonly MemberTable _members;
    private readonly Snapshotter _snapshotter;
    private readonly ILoggerFactory _loggers;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<ulong, PeerStream> _streams = new();
    private readonly Lock _creating = new();
    private readonly ConcurrentDictionary<string, Grpc.Net.Client.GrpcChannel> _requestChannels = new(StringComparer.Ordinal);
    private IPeerReports? _host;
    // Removed members: no stream is opened to them again; each one's stream closes after RetireGrace.
    private readonly ConcurrentDictionary<ulong, ITimer> _retired = new();
    private readonly ConcurrentBag<Task> _closing = new();
    // Node loop only (Send): the peers a batch goes to, and one peer's share of it.
    private readonly List<ulong> _recipients = new();
    private readonly List<Message> _batch = new();

    public PeerTransport(ulong self, MemberTable members, Snapshotter snapshotter, ILoggerFactory loggers, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _self = self;
        _members = members;
        _snapshotter = snapshotter;
        _loggers = loggers;
    }

    /// <summary>The node loop that hears of unreachable and crashed peers and of snapshot outcomes (set once it exists).</summary>
    public IPeerReports? Host
    {
        get => Volatile.Read(ref _host);
        set => Volatile.Write(ref _host, value);
    }

    /// <inheritdoc />
    public void Send(IReadOnlyList<Message> messages)
    {
        // One batch per peer, in order: each peer's messages leave in one frame. The lists are reused
        // (the node loop is the only caller, and a stream copies what it keeps).
        _recipients.Clear();
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            if (message.To != _self && message.To != 0 && !_recipients.Contains(message.To)) _recipients.Add(message.To);
        }
        foreach (var peer in _recipients)
        {
            _batch.Clear();
            for (var i = 0; i < messages.Count; i++)
            {
                if (messages[i].To == peer) _batch.Add(messages[i]);
            }
            SendTo(peer, _batch);
        }
        _batch.Clear();
    }

    /// <summary>
    /// How long the stream to a removed member stays open: the messages that tell it of its removal
    /// (the leader's append with the commit index past the change) are queued when the change is
    /// applied, and closing the stream at once could drop them.
    /// </summary>
    internal static readonly TimeSpan RetireGrace = TimeSpan.FromSeconds(5);

    private void SendTo(ulong peer, List<Message> batch)
    {
        var stream = StreamTo(peer);
        if (stream is null) return; // a removed member: nothing goes to it any more
        if (stream.TrySend(batch)) return;
        Host?.ReportUnreachable(peer);
        foreach (var message in batch)
        {
            if (message.Type == MessageType.MsgSnap) Host?.ReportSnapshot(peer, succeeded: false);
        }
    }

    /// <inheritdoc />
    public void Reach(IEnumerable<ulong> members)
    {
        foreach (var member in members)
        {
            if (member != _self) StreamTo(member);
        }
    }

    /// <inheritdoc />
    public void Retire(IEnumerable<ulong> removed)
    {
        foreach (var member in removed)
        {
            if (member == _self || _retired.ContainsKey(member)) continue;
            var timer = _time.CreateTimer(
                static state =>
                {
                    var (transport, peer) = ((PeerTransport, ulong))state!;
                    transport.CloseRetired(peer);
                },
                (this, member), RetireGrace, Timeout.InfiniteTimeSpan);
            if (!_retired.TryAdd(member, timer)) timer.Dispose();
        }
    }

    /// <summary>The peers this member has a stream to (diagnostics, tests).</summary>
    internal IReadOnlyCollection<ulong> StreamPeers => [.. _streams.Keys];

    /// <summary>Closes the stream to a removed member once its grace period is over (timer thread).</summary>
    private void CloseRetired(ulong peer)
    {
        if (_streams.TryRemove(peer, out var stream)) _closing.Add(stream.DisposeAsync().AsTask());
    }

    /// <summary>
    /// Since when this member has had an open call to <paramref name="peer"/>; null while it has none
    /// (any thread). The strict reconfiguration check counts a peer connected after 5 s of it.
    /// </summary>
    public DateTimeOffset? ActiveSince(ulong peer) => _streams.TryGetValue(peer, out var stream) ? stream.ConnectedSince : null;

    /// <summary>The stream to <paramref name="peer"/>, opened when there is none; null for a removed member.</summary>
    private PeerStream? StreamTo(ulong peer)
    {
        if (_streams.TryGetValue(peer, out var stream)) return stream;
        // Created under a lock: a stream starts its call loop at once, so a losing duplicate from
        // GetOrAdd would keep running.
        lock (_creating)
        {
            if (_streams.TryGetValue(peer, out stream)) return stream;
            if (_retired.ContainsKey(peer)) return null;
            stream = new PeerStream(peer, this, _time, _loggers.CreateLogger<PeerStream>());
            _streams[peer] = stream;
            return stream;
        }
    }

    /// <summary>The peer URL to dial for <paramref name="peer"/>, or null while the member table has none.</summary>
    internal Uri? PeerUrl(ulong peer) =>
        _members.Get(peer) is { PeerUrls.Count: > 0 } m && Uri.TryCreate(m.PeerUrls[0], UriKind.Absolute, out var url) ? url : null;

    /// <summary>The snapshot file saved with <paramref name="metadata"/>, whose image a MsgSnap carries.</summary>
    internal SnapshotFile? SnapshotFile(SnapshotMetadata metadata) =>
        _snapshotter.TryLoad(metadata.Term, metadata.Index, out var file) ? file : null;

    /// <summary>Renews a lease on the leader through its peer API; returns the TTL (0 when the leader does not know the lease).</summary>
    public async Task<long> RenewOnLeaderAsync(ulong leader, long leaseId, CancellationToken cancellationToken)
    {
        var url = PeerUrl(leader) ?? throw Errors.EtcdErrors.NoLeader.ToException();
        try
        {
            var response = await ClientFor(url).LeaseRenewAsync(new Protocol.LeaseRenewRequest { Id = leaseId },
                deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken).ConfigureAwait(false);
            return response.Ttl;
        }
        catch (Grpc.Core.RpcException) when (!cancellationToken.IsCancellationRequested)
        {
            // The leader is unreachable or changed: the client's keep-alive loop tries again.
            throw Errors.EtcdErrors.LeaderChanged.ToException();
        }
    }

    /// <summary>A lease's remaining TTL in seconds on the leader's expiry schedule (-1 when the leader does not know it).</summary>
    public async Task<long> RemainingOnLeaderAsync(ulong leader, long leaseId, CancellationToken cancellationToken)
    {
        var url = PeerUrl(leader) ?? throw Errors.EtcdErrors.NoLeader.ToException();
        try
        {
            var response = await ClientFor(url).LeaseRemainingAsync(new Protocol.LeaseRemainingRequest { Id = leaseId },
                deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken).ConfigureAwait(false);
            return response.Ttl;
        }
        catch (Grpc.Core.RpcException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Errors.EtcdErrors.LeaderChanged.ToException();
        }
    }

    /// <summary>
    /// What <paramref name="peer"/> knows of the cluster (its id, members and removed members), or
    /// null when it cannot be asked (no URL known, unreachable, no answer within 2 s).
    /// </summary>
    public async Task<ClusterResponse?> ClusterOfAsync(ulong peer, CancellationToken cancellationToken)
    {
        if (PeerUrl(peer) is not { } url) return null;
        try
        {
            return await ClientFor(url).ClusterAsync(new ClusterRequest(),
                deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Grpc.Core.RpcException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>A client for unary calls to the peer at <paramref name="url"/>, on a channel kept per peer address.</summary>
    private Protocol.Peer.PeerClient ClientFor(Uri url) =>
        new(_requestChannels.GetOrAdd(url.GetLeftPart(UriPartial.Authority), u => Grpc.Net.Client.GrpcChannel.ForAddress(u)));

    /// <summary>Closes every stream.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _requestChannels.Values) channel.Dispose();
        foreach (var timer in _retired.Values) await timer.DisposeAsync().ConfigureAwait(false);
        // TryRemove: a retired stream's timer may be closing the same stream right now.
        foreach (var peer in _streams.Keys)
        {
            if (_streams.TryRemove(peer, out var stream)) await stream.DisposeAsync().ConfigureAwait(false);
        }
        await Task.WhenAll(_closing).ConfigureAwait(false);
    }
}
