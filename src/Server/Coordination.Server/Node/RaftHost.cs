using Coordination.Raft;
using Coordination.Raft.Protocol;
using Coordination.Server.Errors;
using Coordination.Server.Peer;
using Coordination.Server.StateMachine;
using Coordination.Server.Storage.Snapshots;
using Coordination.Server.Storage.Wal;
using Google.Protobuf;

namespace Coordination.Server.Node;

/// <summary>
/// The node loop: the only place where consensus meets threads, timers, disks and the network. One
/// thread of its own drains proposals, ticks, peer messages and requests, hands them to the pure
/// <see cref="RaftNode"/>, and carries out each <see cref="Ready"/> in order: install a snapshot
/// received from the leader; append entries and hard state to the write-ahead log and fsync once
/// for everything drained together (group commit); only then send the batch's messages to peers
/// (a vote or an acknowledgement promises durability); apply committed entries to the state
/// machine; complete the proposers and the linearizable reads whose read index is now applied;
/// advance the core; and start a snapshot every <c>--snapshot-count</c> applied entries (written in
/// the background, recorded in the log back on the loop).
/// </summary>
internal sealed class RaftHost : IPeerReports, IAsyncDisposable
{
    private const int MaxBatch = 4096;

    private readonly RaftNode _raft;
    private readonly WriteAheadLog _wal;
    private readonly ServerStateMachine _stateMachine;
    private readonly SnapshotWriter _snapshots;
    private readonly Snapshotter _snapshotter;
    private readonly IPeerSender? _peers;
    private readonly ProposalRegistry _registry;
    private readonly TimeProvider _time;
    private readonly NodeInbox _inbox = new();
    // Node loop only: a Ready's messages split by when they may leave (see ProcessReady).
    private readonly List<Message> _early = new();
    private readonly List<Message> _late = new();
    private readonly Action<SnapshotSaved> _onSnapshotSaved;
    // Node loop only: the member table the peer transport was last asked to reach.
    private object? _reached;
    // Node loop only: the removed-member set last handed to the peer transport and checked for this member.
    private object? _retired;
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<ByteString, ReadRequest> _readsAwaitingIndex = new();
    private readonly List<(ulong Index, ReadRequest Request)> _readsAwaitingApply = new();
    private readonly ulong _startupIndex;
    private readonly TimeSpan _requestTimeout;
    private readonly ILogger _logger;
    private readonly ITimer _ticker;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _loopEnded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextReadId;
    private volatile Exception? _fatal;
    private volatile bool _multiMember;

    public RaftHost(RaftNode raft, WriteAheadLog wal, ServerStateMachine stateMachine, SnapshotWriter snapshots,
        TimeSpan tickInterval, TimeProvider time, ILogger<RaftHost> logger,
        Snapshotter? snapshotter = null, IPeerSender? peers = null, TimeSpan? requestTimeout = null)
    {
        _raft = raft;
        _wal = wal;
        _stateMachine = stateMachine;
        _snapshots = snapshots;
        _snapshotter = snapshotter!;
        _peers = peers;
        _logger = logger;
        _onSnapshotSaved = saved => _inbox.TryWrite(saved);
        _time = time;
        _registry = new ProposalRegistry(raft.Id, time.GetUtcNow());
        _requestTimeout = requestTimeout ?? TimeSpan.FromSeconds(7);
        var cs = _raft.ConfState;
        _multiMember = cs.Voters.Count + cs.Learners.Count > 1;
        if (cs.Voters.Count == 1 && cs.Voters[0] == _raft.Id && cs.Learners.Count == 0)
        {
            // A single voter need not wait an election timeout to lead.
            _raft.Campaign();
            _startupIndex = _raft.LastIndex;
        }
        else
        {
            // Entries beyond the commit index may never commit; only those committed are replayed now.
            _startupIndex = _raft.Commit;
        }
        _ticker = time.CreateTimer(_ => _inbox.TryWrite(null), null, tickInterval, tickInterval);
        new Thread(Run) { IsBackground = true, Name = "node loop" }.Start();
    }

    /// <summary>This member's id.</summary>
    public ulong Id => _raft.Id;

    /// <summary>The current raft term, for response headers.</summary>
    public ulong Term => Volatile.Read(ref _term);

    private ulong _term;

    /// <summary>The member leading the current term (0 when none).</summary>
    public ulong Leader => Volatile.Read(ref _leader);

    private ulong _leader;

    /// <summary>The index of the last entry in the log.</summary>
    public ulong LastIndex => Volatile.Read(ref _lastIndex);

    private ulong _lastIndex;

    /// <summary>Index of the last entry applied to the state machine.</summary>
    public ulong AppliedIndex => Volatile.Read(ref _appliedIndex);

    private ulong _appliedIndex;

    /// <summary>True when the membership has more than one member (reads need ReadIndex, requests time out).</summary>
    public bool IsMultiMember => _multiMember;

    /// <summary>Called on the node loop after the state machine was replaced by a snapshot from the leader.</summary>
    public Action? SnapshotInstalled { get; set; }

    /// <summary>Called on the node loop when this member becomes the leader of a cluster.</summary>
    public Action? BecameLeader { get; set; }

    /// <summary>Called on the node loop once, when an applied change removed this member from the cluster.</summary>
    public Action? SelfRemoved { get; set; }

    private bool _removed;

    /// <summary>Completes once every entry present at start-up (and this term's first entry) has been applied.</summary>
    public Task CaughtUp => _caughtUp.Task;

    /// <summary>
    /// Captures an image of the applied state between two batches of the node loop, so it is
    /// consistent with one applied index.
    /// </summary>
    public async Task<StateImage> CaptureImageAsync(CancellationToken cancellationToken)
    {
        var request = new TaskCompletionSource<StateImage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_inbox.TryWrite(request)) throw EtcdErrors.Stopped.ToException();
        return await request.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Proposes a mutation and waits until it has been committed and applied. The request's id is
    /// assigned here. Cancelling stops the wait, not the proposal, which may still be applied. In a
    /// cluster the wait ends with "request timed out" when the entry is not applied in time (it may
    /// have been lost with a leader, or may still be applied).
    /// </summary>
    public Task<ApplyResult> ProposeAsync(Apply.Protocol.InternalRequest request, CancellationToken cancellationToken)
    {
        if (_fatal is not null || _stopping.IsCancellationRequested) throw EtcdErrors.Stopped.ToException();
        var (id, applied) = _registry.Register(Deadline());
        request.Id = id;
        return WaitAppliedAsync(id, applied, request.ToByteString(), cancellationToken);
    }

    /// <summary>Proposes a membership change whose context carries a proposal id, and waits until it is applied.</summary>
    public Task<ApplyResult> ProposeConfChangeAsync(ConfChange change, Apply.Protocol.MemberChange context, CancellationToken cancellationToken)
    {
        if (_fatal is not null || _stopping.IsCancellationRequested) throw EtcdErrors.Stopped.ToException();
        var (id, applied) = _registry.Register(Deadline());
        context.RequestId = id;
        change.Context = context.ToByteString();
        return WaitAppliedAsync(id, applied, change, cancellationToken);
    }

    /// <summary>When a proposal made now times out: never for a single member, whose log alone decides.</summary>
    private long Deadline() =>
        _multiMember ? _time.GetTimestamp() + (long)(_requestTimeout.TotalSeconds * _time.TimestampFrequency) : long.MaxValue;

    private static readonly Func<Exception> TimedOut = () => EtcdErrors.Timeout.ToException();

    private async Task<ApplyResult> WaitAppliedAsync(ulong id, Task<ApplyResult> applied, object proposal, CancellationToken cancellationToken)
    {
        if (!_inbox.TryWrite(proposal))
        {
            _registry.Forget(id);
            throw EtcdErrors.Stopped.ToException();
        }
        try
        {
            // In a cluster, the node loop's tick fails the wait with "request timed out" at its deadline.
            return await applied.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _registry.Forget(id);
            throw;
        }
    }

    /// <summary>
    /// Waits until reading the applied state is linearizable: the leader confirmed its commit index
    /// with a quorum (ReadIndex) and this member has applied up to it.
    /// </summary>
    public async Task WaitReadableAsync(CancellationToken cancellationToken)
    {
        if (_fatal is not null || _stopping.IsCancellationRequested) throw EtcdErrors.Stopped.ToException();
        // The context names the read across the cluster: a follower's read is forwarded to the leader,
        // which ignores a context it already holds, so a counter alone (equal on every member) would
        // let one member's read swallow another's and leave it waiting for the request timeout.
        var id = Interlocked.Increment(ref _nextReadId);
        var bytes = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, _raft.Id);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(8), id);
        var context = ByteString.CopyFrom(bytes);
        var request = new ReadRequest(context);
        if (!_inbox.TryWrite(request)) throw EtcdErrors.Stopped.ToException();
        try
        {
            await request.Done.Task.WaitAsync(_requestTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw EtcdErrors.Timeout.ToException();
        }
    }

    /// <summary>
    /// On the leader: <paramref name="peer"/>'s acknowledged log index and the leader's last index,
    /// read between two batches of the node loop; null when this member does not lead.
    /// </summary>
    public async Task<(ulong Match, ulong LeaderLast)?> ProgressOfAsync(ulong peer, CancellationToken cancellationToken)
    {
        var query = new ProgressQuery(peer);
        if (!_inbox.TryWrite(query)) throw EtcdErrors.Stopped.ToException();
        return await query.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Hands a message from a peer to the core (any thread).</summary>
    public void Deliver(Message message) => _inbox.TryWrite(message);

    /// <summary>The transport could not deliver to <paramref name="peer"/> (any thread).</summary>
    public void ReportUnreachable(ulong peer) => _inbox.TryWrite(new PeerReport(peer, Unreachable: true, SnapshotSucceeded: false));

    /// <summary>The transport found <paramref name="peer"/>'s process gone: its peer port refused a connection (any thread).</summary>
    public void ReportPeerDown(ulong peer) => _inbox.TryWrite(new PeerDown(peer));

    /// <summary>The transport finished sending a snapshot to <paramref name="peer"/> (any thread).</summary>
    public void ReportSnapshot(ulong peer, bool succeeded) => _inbox.TryWrite(new PeerReport(peer, Unreachable: false, SnapshotSucceeded: succeeded));

    /// <summary>Asks the core (on the leader) to hand leadership to <paramref name="transferee"/>.</summary>
    public void TransferLeader(ulong transferee) => _inbox.TryWrite(new LeaderTransfer(transferee));

    private void Run()
    {
        try
        {
            PublishStatus();
            ProcessReady();
            while (_inbox.WaitToRead(_stopping.Token))
            {
                var drained = 0;
                while (drained < MaxBatch && _inbox.TryRead(out var item))
                {
                    drained++;
                    Handle(item);
                }
                ProcessReady();
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // A failure to persist or apply leaves the member unable to make safe progress.
            _fatal = ex;
            _logger.LogCritical(ex, "node loop stopped: {Message}", ex.Message);
            _registry.FailAll(EtcdErrors.Stopped.ToException());
            _caughtUp.TrySetException(ex);
        }
        finally
        {
            _loopEnded.TrySetResult();
        }
    }

    private void Handle(object? item)
    {
        switch (item)
        {
            case null:
                _raft.Tick();
                _registry.ExpireDue(_time.GetTimestamp(), TimedOut);
                break;
            case Message message:
                _raft.Step(message);
                break;
            case ByteString proposal when _raft.Propose(proposal) == ProposeResult.Dropped:
                _registry.Complete(Apply.Protocol.InternalRequest.Parser.ParseFrom(proposal).Id, ApplyResult.Failed(EtcdErrors.NoLeader));
                break;
            case ConfChange change when _raft.ProposeConfChange(change) == ProposeResult.Dropped:
                // No leader, or the leader has a membership change not yet applied.
                _registry.Complete(Apply.Protocol.MemberChange.Parser.ParseFrom(change.Context).RequestId,
                    ApplyResult.Failed(_raft.Leader == 0 ? EtcdErrors.NoLeader : EtcdErrors.Unhealthy));
                break;
            case ProgressQuery query:
                query.Done.TrySetResult(_raft.ProgressOf(query.Peer));
                break;
            case ReadRequest read:
                if (_raft.ReadIndex(read.Context)) _readsAwaitingIndex[read.Context] = read;
                else read.Done.TrySetException(EtcdErrors.NoLeader.ToException());
                break;
            case PeerDown down:
                if (_raft.Role == RaftRole.Follower && _raft.Leader == down.Peer)
                {
                    _logger.LogInformation("member {Id:x}: leader {Leader:x} refused a connection, its process is gone; electing a new leader without waiting for the election timeout",
                        _raft.Id, down.Peer);
                }
                _raft.ReportPeerDown(down.Peer);
                break;
            case PeerReport report when report.Unreachable:
                _raft.ReportUnreachable(report.Peer);
                break;
            case PeerReport report:
                _raft.ReportSnapshot(report.Peer, report.SnapshotSucceeded);
                break;
            case LeaderTransfer transfer:
                _raft.TransferLeader(transfer.Transferee);
                break;
            case TaskCompletionSource<StateImage> imageRequest:
                ProcessReady();
                imageRequest.TrySetResult(_stateMachine.CaptureImage());
                break;
            case SnapshotSaved saved:
                CompleteSnapshot(saved);
                break;
        }
    }

    private void ProcessReady()
    {
        while (_raft.HasReady)
        {
            var ready = _raft.GetReady();
            // A leader's appends, heartbeats and snapshots promise nothing about its own disk (it
            // counts itself towards a quorum only once its log is durable, see RaftNode.Advance),
            // so they leave before its fsync and the followers' writes overlap with it (Raft
            // thesis §10.2.1). Everything else waits for the fsync.
            SplitMessages(ready.Messages);
            if (_early.Count > 0) _peers?.Send(_early);
            if (ready.Snapshot is { } snapshot) InstallSnapshot(snapshot);
            if (ready.HardState is not null || ready.Entries.Count > 0)
            {
                _wal.Append(ready.HardState, ready.Entries);
                if (ready.MustSync) _wal.Sync();
            }
            // Durable first: only now may peers learn of votes and acknowledgements.
            if (_late.Count > 0) _peers?.Send(_late);
            // Index loops over the Ready's lists: a foreach through IReadOnlyList boxes its enumerator, per batch.
            for (var i = 0; i < ready.CommittedEntries.Count; i++)
            {
                var (id, result) = _stateMachine.Apply(ready.CommittedEntries[i]);
                _registry.Complete(id, result);
            }
            _raft.Advance(ready);
            for (var i = 0; i < ready.ReadStates.Count; i++)
            {
                var state = ready.ReadStates[i];
                if (_readsAwaitingIndex.Remove(state.Context, out var read)) _readsAwaitingApply.Add((state.Index, read));
            }
            CompleteReads();
            PublishStatus();
            if (ready.CommittedEntries.Count > 0) _snapshots.MaybeStart(_stateMachine, _onSnapshotSaved);
        }
        // Reads whose leader went away are answered by the client's timeout; forget them here so
        // the table does not grow without bound.
        if (_raft.Leader == 0 && _readsAwaitingIndex.Count > 0)
        {
            foreach (var read in _readsAwaitingIndex.Values) read.Done.TrySetException(EtcdErrors.LeaderChanged.ToException());
            _readsAwaitingIndex.Clear();
        }
    }

    /// <summary>Splits a Ready's messages into <see cref="_early"/> and <see cref="_late"/> (reused lists).</summary>
    private void SplitMessages(IReadOnlyList<Message> messages)
    {
        _early.Clear();
        _late.Clear();
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m.Type is MessageType.MsgApp or MessageType.MsgHeartbeat or MessageType.MsgSnap) _early.Add(m);
            else _late.Add(m);
        }
    }

    private void CompleteReads()
    {
        if (_readsAwaitingApply.Count == 0) return;
        var applied = _stateMachine.AppliedIndex;
        _readsAwaitingApply.RemoveAll(r =>
        {
            if (r.Index > applied) return false;
            r.Request.Done.TrySetResult();
            return true;
        });
    }

    /// <summary>
    /// Installs a snapshot the leader sent (this member was too far behind for entries): saves the
    /// snapshot file, records it in the log (synced), and replaces the state machine with its image.
    /// </summary>
    private void InstallSnapshot(Snapshot snapshot)
    {
        var metadata = snapshot.Metadata;
        _logger.LogInformation("installing snapshot from the leader at index {Index} (term {Term}), {Bytes} bytes",
            metadata.Index, metadata.Term, snapshot.Data.Length);
        _snapshotter.Save(metadata, snapshot.Data.Memory);
        _wal.SaveSnapshotMarker(metadata);
        using (var image = new MemoryStream(snapshot.Data.ToByteArray(), writable: false)) _stateMachine.RestoreInPlace(image);
        _snapshots.Installed(metadata.Index);
        // The core keeps the snapshot's metadata only; the image lives in the snapshot file now.
        snapshot.Data = ByteString.Empty;
        SnapshotInstalled?.Invoke();
    }

    /// <summary>
    /// Records a snapshot file written in the background and tells the core, which keeps it to catch up
    /// lagging members and releases the entries it covers from memory. The core gets the metadata only:
    /// the image stays in the snapshot file, from which the peer transport reads it when it sends one.
    /// When <c>--snapshot-count</c> more entries were applied while it was written (a slow disk, or a
    /// starved low-priority writer), the next snapshot starts now rather than at the next commit, so
    /// an idle member still releases the log it no longer needs.
    /// </summary>
    private void CompleteSnapshot(SnapshotSaved saved)
    {
        if (_snapshots.Complete(saved, _wal) is { } metadata) _raft.Compact(new Snapshot { Metadata = metadata });
        _snapshots.MaybeStart(_stateMachine, _onSnapshotSaved);
    }

    private void PublishStatus()
    {
        Volatile.Write(ref _appliedIndex, _stateMachine.AppliedIndex);
        if (_stateMachine.AppliedIndex >= _startupIndex) _caughtUp.TrySetResult();
        Volatile.Write(ref _term, _raft.Term);
        var previousLeader = _leader;
        Volatile.Write(ref _leader, _raft.Leader);
        if (_raft.Leader != previousLeader && _multiMember)
        {
            // Operators read elections from the log, as etcd's "elected leader ... at term ..." lines.
            if (_raft.Leader == 0) _logger.LogInformation("member {Id:x} lost leader {Leader:x} at term {Term}", _raft.Id, previousLeader, _raft.Term);
            else _logger.LogInformation("member {Id:x} elected leader {Leader:x} at term {Term}", _raft.Id, _raft.Leader, _raft.Term);
        }
        if (previousLeader != 0 && _raft.Leader != previousLeader)
        {
            // Proposals in flight under the old leader may have been lost with it, or may still
            // commit: their proposers get "leader changed" (an unknown outcome, as with etcd's
            // Unavailable errors) now instead of waiting for the request timeout.
            _registry.FailAll(EtcdErrors.LeaderChanged.ToException());
        }
        if (_raft.Leader == _raft.Id && previousLeader != _raft.Id && _multiMember) BecameLeader?.Invoke();
        Volatile.Write(ref _lastIndex, _raft.LastIndex);
        var members = _stateMachine.Members.Members;
        _multiMember = members.Count > 1;
        if (!ReferenceEquals(members, _reached))
        {
            _reached = members;
            _peers?.Reach(members.Keys);
        }
        // The removed set is replaced, never changed in place: looked at only when it is a new one.
        var removed = _stateMachine.Members.Removed;
        if (ReferenceEquals(removed, _retired)) return;
        _retired = removed;
        if (removed.Count > 0) _peers?.Retire(removed);
        // Absent from the table is not removed: a snapshot taken before this member was added does
        // not list it yet (the entries after it do). Removal is recorded explicitly.
        if (!_removed && removed.Contains(_raft.Id))
        {
            _removed = true;
            _logger.LogWarning("this member ({Id:x}) has been removed from the cluster; stopping", _raft.Id);
            SelfRemoved?.Invoke();
        }
    }

    /// <summary>Stops the loop after the work already drained; waiting proposers fail with "server stopped".</summary>
    public async ValueTask DisposeAsync()
    {
        await _ticker.DisposeAsync().ConfigureAwait(false);
        _inbox.Complete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loopEnded.Task.ConfigureAwait(false);
        if (_fatal is null) await _snapshots.DrainAsync(_wal).ConfigureAwait(false);
        _registry.FailAll(EtcdErrors.Stopped.ToException());
        foreach (var read in _readsAwaitingIndex.Values) read.Done.TrySetException(EtcdErrors.Stopped.ToException());
        foreach (var (_, read) in _readsAwaitingApply) read.Done.TrySetException(EtcdErrors.Stopped.ToException());
        // Whatever was queued as the loop stopped gets an answer too.
        while (_inbox.TryRead(out var item))
        {
            switch (item)
            {
                case ReadRequest read: read.Done.TrySetException(EtcdErrors.Stopped.ToException()); break;
                case ProgressQuery query: query.Done.TrySetException(EtcdErrors.Stopped.ToException()); break;
                case TaskCompletionSource<StateImage> imageRequest: imageRequest.TrySetException(EtcdErrors.Stopped.ToException()); break;
            }
        }
        _stopping.Dispose();
    }

    private sealed record ReadRequest(ByteString Context)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record PeerReport(ulong Peer, bool Unreachable, bool SnapshotSucceeded);

    private sealed record PeerDown(ulong Peer);

    private sealed record ProgressQuery(ulong Peer)
    {
        public TaskCompletionSource<(ulong Match, ulong LeaderLast)?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed record LeaderTransfer(ulong Transferee);
}

/// <summary>Sends the core's messages to peers (the peer transport); called on the node loop, must not block.</summary>
internal interface IPeerSender
{
    /// <summary>Queues messages for their recipients.</summary>
    void Send(IReadOnlyList<Message> messages);

    /// <summary>Keeps a connection open to each of <paramref name="members"/> (this member excluded), whether or not messages flow.</summary>
    void Reach(IEnumerable<ulong> members);

    /// <summary>Closes, after a grace period, the connection to each of <paramref name="removed"/>
    /// (members removed from the cluster), and opens none to them again.</summary>
    void Retire(IEnumerable<ulong> removed);
}
