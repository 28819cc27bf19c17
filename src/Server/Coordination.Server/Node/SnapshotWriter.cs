using Coordination.Raft.Protocol;
using Coordination.Server.StateMachine;
using Coordination.Server.Storage.Snapshots;
using Coordination.Server.Storage.Wal;

namespace Coordination.Server.Node;

/// <summary>
/// Takes a snapshot of the applied state every <c>--snapshot-count</c> applied entries, records it in
/// the write-ahead log, and releases the log segments the snapshot makes unnecessary.
/// </summary>
internal sealed class SnapshotWriter(Snapshotter snapshotter, long snapshotCount, ulong lastSnapshotIndex, ILogger<SnapshotWriter> logger)
{
    private const int SnapshotsKept = 5;
    private ulong _lastSnapshotIndex = lastSnapshotIndex;

    /// <summary>Index of the newest snapshot.</summary>
    public ulong LastSnapshotIndex => _lastSnapshotIndex;

    /// <summary>
    /// Snapshots when enough entries were applied since the last one, and returns it (image
    /// included, for the consensus core to catch up followers with), or null. Runs on the node loop.
    /// </summary>
    public Snapshot? MaybeSnapshot(ServerStateMachine stateMachine, WriteAheadLog wal)
    {
        if (stateMachine.AppliedIndex - _lastSnapshotIndex < (ulong)snapshotCount) return null;
        var meta = new SnapshotMetadata
        {
            Index = stateMachine.AppliedIndex,
            Term = stateMachine.AppliedTerm,
            ConfState = stateMachine.ConfState.Clone(),
        };
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        Google.Protobuf.ByteString data;
        using (var image = new MemoryStream())
        {
            stateMachine.WriteImage(image);
            image.Position = 0;
            snapshotter.Save(meta, image);
            data = Google.Protobuf.ByteString.CopyFrom(image.GetBuffer(), 0, (int)image.Length);
        }
        wal.SaveSnapshotMarker(meta);
        wal.Sync();
        var released = wal.ReleaseTo(meta.Index);
        snapshotter.Purge(SnapshotsKept);
        _lastSnapshotIndex = meta.Index;
        logger.LogInformation("saved snapshot at index {Index} (term {Term}) in {Elapsed:F0} ms; released {Released} log segments",
            meta.Index, meta.Term, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, released);
        return new Snapshot { Metadata = meta, Data = data };
    }
}
