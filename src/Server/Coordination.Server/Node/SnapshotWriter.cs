using Coordination.Raft.Protocol;
using Coordination.Server.StateMachine;
using Coordination.Server.Storage.Snapshots;
using Coordination.Server.Storage.Wal;

namespace Coordination.Server.Node;

/// <summary>
/// Takes a snapshot every <c>--snapshot-count</c> applied entries without stalling the write path:
/// the node loop captures the applied state (cheap, see <see cref="StateImage"/>), a background thread
/// paced to a quarter of a core writes and fsyncs the snapshot file, and back on the node loop <see cref="Complete"/> records it
/// in the write-ahead log and releases the log segments it makes unnecessary. At most one snapshot
/// is in flight; a failed one is logged and retried after the next <c>--snapshot-count</c> entries
/// (the log still holds everything, so no acknowledged write depends on it).
/// </summary>
internal sealed class SnapshotWriter(Snapshotter snapshotter, long snapshotCount, ulong lastSnapshotIndex, TimeProvider time, ILogger<SnapshotWriter> logger)
{
    /// <summary>Work between two rests of the writer thread.</summary>
    private static readonly TimeSpan PaceSlice = TimeSpan.FromMilliseconds(2);

    /// <summary>The share of a core the writer thread may take.</summary>
    private const double PaceShare = 0.25;

    private const int SnapshotsKept = 5;
    private ulong _lastSnapshotIndex = lastSnapshotIndex;
    private ulong _lastAttemptIndex = lastSnapshotIndex;
    private Task<SnapshotSaved>? _inFlight;

    /// <summary>Index of the newest snapshot recorded in the log.</summary>
    public ulong LastSnapshotIndex => _lastSnapshotIndex;

    /// <summary>
    /// On the node loop: when enough entries were applied since the last snapshot and none is being
    /// written, captures the state and starts writing it; <paramref name="written"/> is called from
    /// the writer thread when the file is durable (or failed), to hand it back to the node loop.
    /// </summary>
    public void MaybeStart(ServerStateMachine stateMachine, Action<SnapshotSaved> written)
    {
        if (_inFlight is not null || stateMachine.AppliedIndex - _lastAttemptIndex < (ulong)snapshotCount) return;
        var image = stateMachine.CaptureImage();
        var meta = new SnapshotMetadata { Index = image.AppliedIndex, Term = image.AppliedTerm, ConfState = image.ConfState };
        _lastAttemptIndex = meta.Index;
        var done = new TaskCompletionSource<SnapshotSaved>(TaskCreationOptions.RunContinuationsAsynchronously);
        _inFlight = done.Task;
        // A thread of its own, paced (see WritePacer): serializing and fsyncing a large image takes a
        // core for a while, and every member reaches --snapshot-count at the same index. Unpaced at
        // normal priority the three writers took CPU that requests needed: with a snapshot of 100,000
        // revisions inside the measured window, a 64-client put p99 of 17.2-18.4 ms, against 13.8-15.1
        // ms at the lowest priority (2 runs each, 3 members on 2 cores; 9-11 ms with no snapshot in it).
        // The lowest priority in turn stretched garbage collections that had to wait for this thread:
        // the longest pause of a member while it wrote its image was 14-93 ms in 5 runs at nice 19,
        // 7-15 ms in 3 runs paced (docs/benchmarks.md). The image took
        // 180-740 ms to write at nice 19 and 410-580 ms paced.
        var thread = new Thread(() =>
        {
            var saved = Write(meta, image);
            done.SetResult(saved);
            written(saved);
        })
        { IsBackground = true, Name = "Snapshot writer" };
        thread.Start();
    }

    private SnapshotSaved Write(SnapshotMetadata meta, StateImage image)
    {
        var started = time.GetTimestamp();
        try
        {
            snapshotter.Save(meta, image.WriteTo, new WritePacer(time, PaceSlice, PaceShare));
            return new SnapshotSaved(meta, null, time.GetElapsedTime(started));
        }
        catch (Exception ex)
        {
            return new SnapshotSaved(meta, ex, time.GetElapsedTime(started));
        }
    }

    /// <summary>On the node loop: records a written snapshot in the log and releases what it covers;
    /// returns its metadata, or null when writing it failed.</summary>
    public SnapshotMetadata? Complete(SnapshotSaved saved, WriteAheadLog wal)
    {
        _inFlight = null;
        if (saved.Error is not null)
        {
            logger.LogError(saved.Error, "could not save the snapshot at index {Index}: {Message}; the log keeps every entry and the next snapshot is tried after {Count} more",
                saved.Metadata.Index, saved.Error.Message, snapshotCount);
            return null;
        }
        wal.SaveSnapshotMarker(saved.Metadata);
        var released = wal.ReleaseTo(saved.Metadata.Index);
        snapshotter.Purge(SnapshotsKept);
        _lastSnapshotIndex = saved.Metadata.Index;
        logger.LogInformation("saved snapshot at index {Index} (term {Term}) in {Elapsed:F0} ms; released {Released} log segments",
            saved.Metadata.Index, saved.Metadata.Term, saved.Elapsed.TotalMilliseconds, released);
        return saved.Metadata;
    }

    /// <summary>On the node loop: a snapshot from the leader was installed at <paramref name="index"/> (its file and marker are saved).</summary>
    public void Installed(ulong index)
    {
        _lastSnapshotIndex = Math.Max(_lastSnapshotIndex, index);
        _lastAttemptIndex = Math.Max(_lastAttemptIndex, index);
    }

    /// <summary>After the node loop stopped: waits for a snapshot still being written and records it.</summary>
    public async Task DrainAsync(WriteAheadLog wal)
    {
        if (_inFlight is not { } inFlight) return;
        _ = Complete(await inFlight.ConfigureAwait(false), wal);
    }
}

/// <summary>The outcome of writing one snapshot file.</summary>
internal sealed record SnapshotSaved(SnapshotMetadata Metadata, Exception? Error, TimeSpan Elapsed);
