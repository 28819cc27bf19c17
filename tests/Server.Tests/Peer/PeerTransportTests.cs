using Coordination.Raft.Protocol;
using Coordination.Server.Apply.Protocol;
using Coordination.Server.Cluster;
using Coordination.Server.Peer;
using Coordination.Server.Storage.Snapshots;
using Coordination.Server.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Server.Tests.Peer;

/// <summary>The outbound peer streams: one per member, and none to a member once it was removed.</summary>
public sealed class PeerTransportTests : IAsyncDisposable
{
    private const ulong Self = 1;
    private readonly FakeTimeProvider _time = new();
    private readonly TempDirectory _dir = new();
    private readonly MemberTable _members = new();
    private readonly PeerTransport _transport;

    public PeerTransportTests()
    {
        // Port 1 on loopback refuses connections: the streams just retry, on the fake clock.
        _members.Reset([Member(1), Member(2), Member(3)], []);
        _transport = new PeerTransport(Self, _members, new Snapshotter(_dir.Path, NullLogger.Instance), NullLoggerFactory.Instance, _time);
    }

    private static MemberRecord Member(ulong id) => new() { Id = id, Name = $"m{id}", PeerUrls = { "http://127.0.0.1:1" } };

    [Fact]
    public void Every_other_member_gets_a_stream()
    {
        _transport.Reach([1, 2, 3]);

        Assert.Equal([2UL, 3UL], _transport.StreamPeers.Order());
    }

    [Fact]
    public void A_removed_members_stream_stays_through_the_grace_period_then_closes_for_good()
    {
        _transport.Reach([1, 2, 3]);
        _transport.Retire([2]);

        // Still open: the messages telling member 2 of its removal may be on their way.
        _time.Advance(PeerTransport.RetireGrace - TimeSpan.FromMilliseconds(1));
        Assert.Contains(2UL, _transport.StreamPeers);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal([3UL], _transport.StreamPeers);

        // Neither a message nor a reach opens it again.
        _transport.Send([new Message { Type = MessageType.MsgHeartbeat, From = Self, To = 2, Term = 1 }]);
        _transport.Reach([1, 2, 3]);
        Assert.Equal([3UL], _transport.StreamPeers);
    }

    [Fact]
    public void Retiring_this_member_or_one_twice_changes_nothing_else()
    {
        _transport.Reach([1, 2, 3]);
        _transport.Retire([1, 3]);
        _time.Advance(TimeSpan.FromSeconds(3));
        // A second retirement of 3 does not restart its grace period.
        _transport.Retire([1, 3]);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal([2UL], _transport.StreamPeers);
    }

    [Fact]
    public async Task A_peer_whose_port_refuses_connections_is_reported_down_as_well_as_unreachable()
    {
        var reports = new ReportRecorder();
        _transport.Host = reports;

        _transport.Reach([2]);

        await reports.Unreachable.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal([2UL], reports.Down);
    }

    [Fact]
    public async Task A_peer_that_accepts_and_then_drops_the_connection_is_unreachable_but_not_reported_down()
    {
        // Its process runs (something listens), as a peer cut off by a flaky network or restarting
        // its listener would: only a refused connection says the process is gone.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var cancel = TestContext.Current.CancellationToken;
        _ = Task.Run(async () =>
        {
            using var accepted = await listener.AcceptSocketAsync(cancel);
            accepted.Close(0);
        }, cancel);
        var members = new MemberTable();
        members.Reset([Member(1), new MemberRecord { Id = 2, Name = "m2", PeerUrls = { $"http://127.0.0.1:{port}" } }], []);
        await using var transport = new PeerTransport(Self, members, new Snapshotter(_dir.Path, NullLogger.Instance), NullLoggerFactory.Instance, _time);
        var reports = new ReportRecorder();
        transport.Host = reports;

        transport.Reach([2]);

        await reports.Unreachable.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Empty(reports.Down);
    }

    /// <summary>Records the transport's reports (the down reports come before the unreachable one of the same failure).</summary>
    private sealed class ReportRecorder : IPeerReports
    {
        public System.Collections.Concurrent.ConcurrentQueue<ulong> Down { get; } = new();
        public TaskCompletionSource Unreachable { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public void ReportUnreachable(ulong peer) => Unreachable.TrySetResult();
        public void ReportPeerDown(ulong peer) => Down.Enqueue(peer);
        public void ReportSnapshot(ulong peer, bool succeeded) { }
    }

    public async ValueTask DisposeAsync()
    {
        await _transport.DisposeAsync();
        _dir.Dispose();
    }
}
