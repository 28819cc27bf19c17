using System.Threading.Channels;
using Coordination.Raft;
using Coordination.Raft.Protocol;
using Coordination.Server.Errors;
using Coordination.Server.StateMachine;
using Coordination.Server.Storage.Wal;
using Google.Protobuf;

namespace Coordination.Server.Node;

/// <summary>
/// The node loop: the only place where consensus meets threads, timers and disks. One task drains
/// proposals and ticks, hands them to the pure <see cref="RaftNode"/>, and carries out each
/// <see cref="Ready"/> in order: append entries and hard state to the write-ahead log, fsync once
/// for everything drained together (group commit), apply committed entries to the state machine,
/// complete the proposers, advance the core, and start a snapshot every <c>--snapshot-count</c>
/// applied entries (written in the background, recorded in the log back on the loop).
/// </summary>
internal sealed class RaftHost : IAsyncDisposable
{
    private const int MaxBatch = 4096;

    private readonly RaftNode _raft;
    private readonly WriteAheadLog _wal;
    private readonly ServerStateMachine _stateMachine;
    private readonly SnapshotWriter _snapshots;
    private readonly ProposalRegistry _registry = new();
    private readonly Channel<object?> _inbox = Channel.CreateUnbounded<object?>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ulong _startupIndex;
    private readonly ILogger _logger;
    private readonly ITimer _ticker;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;
    private volatile Exception? _fatal;

    public RaftHost(RaftNode raft, WriteAheadLog wal, ServerStateMachine stateMachine, SnapshotWriter snapshots,
        TimeSpan tickInterval, TimeProvider time, ILogger<RaftHost> logger)
    {
        _raft = raft;
        _wal = wal;
        _stateMachine = stateMachine;
        _snapshots = snapshots;
        _logger = logger;
        // A single voter need not wait an election timeout to lead.
        _raft.Campaign();
        _startupIndex = _raft.LastIndex;
        _ticker = time.CreateTimer(_ => _inbox.Writer.TryWrite(null), null, tickInterval, tickInterval);
        _loop = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

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

    /// <summary>Completes once every entry present at start-up (and this term's first entry) has been applied.</summary>
    public Task CaughtUp => _caughtUp.Task;

    /// <summary>
    /// Captures an image of the applied state between two batches of the node loop, so it is
    /// consistent with one applied index.
    /// </summary>
    public async Task<StateImage> CaptureImageAsync(CancellationToken cancellationToken)
    {
        var request = new TaskCompletionSource<StateImage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_inbox.Writer.TryWrite(request)) throw EtcdErrors.Stopped.ToException();
        return await request.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Proposes a mutation and waits until it has been committed and applied. The request's id is
    /// assigned here. Cancelling stops the wait, not the proposal, which may still be applied.
    /// </summary>
    public async Task<ApplyResult> ProposeAsync(Apply.Protocol.InternalRequest request, CancellationToken cancellationToken)
    {
        if (_fatal is not null || _stopping.IsCancellationRequested) throw EtcdErrors.Stopped.ToException();
        var (id, applied) = _registry.Register();
        request.Id = id;
        var data = request.ToByteString();
        if (!_inbox.Writer.TryWrite(data))
        {
            _registry.Forget(id);
            throw EtcdErrors.Stopped.ToException();
        }
        try
        {
            return await applied.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _registry.Forget(id);
            throw;
        }
    }

    private async Task RunAsync()
    {
        var reader = _inbox.Reader;
        try
        {
            PublishStatus();
            ProcessReady();
            while (await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                var drained = 0;
                while (drained < MaxBatch && reader.TryRead(out var item))
                {
                    drained++;
                    switch (item)
                    {
                        case null:
                            _raft.Tick();
                            break;
                        case ByteString proposal when _raft.Propose(proposal) == ProposeResult.Dropped:
                            _registry.Complete(Apply.Protocol.InternalRequest.Parser.ParseFrom(proposal).Id, ApplyResult.Failed(EtcdErrors.NoLeader));
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
    }

    private void ProcessReady()
    {
        while (_raft.HasReady)
        {
            // One voter: Ready carries no messages and no snapshot from a leader; the multi-member
            // loop (peer transport) is a separate step.
            var ready = _raft.GetReady();
            if (ready.HardState is not null || ready.Entries.Count > 0)
            {
                _wal.Append(ready.HardState, ready.Entries);
                if (ready.MustSync) _wal.Sync();
            }
            foreach (var entry in ready.CommittedEntries)
            {
                var (id, result) = _stateMachine.Apply(entry);
                _registry.Complete(id, result);
            }
            _raft.Advance(ready);
            PublishStatus();
            if (ready.CommittedEntries.Count > 0) _snapshots.MaybeStart(_stateMachine, saved => _inbox.Writer.TryWrite(saved));
        }
    }

    /// <summary>
    /// Records a snapshot file written in the background and tells the core, which keeps it to catch up
    /// lagging members and releases the entries it covers from memory. The core gets the metadata only:
    /// the image stays in the snapshot file, from which the peer transport reads it when it sends one.
    /// </summary>
    private void CompleteSnapshot(SnapshotSaved saved)
    {
        if (_snapshots.Complete(saved, _wal) is { } metadata) _raft.Compact(new Snapshot { Metadata = metadata });
    }

    private void PublishStatus()
    {
        Volatile.Write(ref _appliedIndex, _stateMachine.AppliedIndex);
        if (_stateMachine.AppliedIndex >= _startupIndex) _caughtUp.TrySetResult();
        Volatile.Write(ref _term, _raft.Term);
        Volatile.Write(ref _leader, _raft.Leader);
        Volatile.Write(ref _lastIndex, _raft.LastIndex);
    }

    /// <summary>Stops the loop after the work already drained; waiting proposers fail with "server stopped".</summary>
    public async ValueTask DisposeAsync()
    {
        await _ticker.DisposeAsync().ConfigureAwait(false);
        _inbox.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        try { await _loop.ConfigureAwait(false); } catch (OperationCanceledException) { }
        if (_fatal is null) await _snapshots.DrainAsync(_wal).ConfigureAwait(false);
        _registry.FailAll(EtcdErrors.Stopped.ToException());
        _stopping.Dispose();
    }
}
