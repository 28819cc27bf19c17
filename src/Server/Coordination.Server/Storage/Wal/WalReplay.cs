using Coordination.Raft.Protocol;

namespace Coordination.Server.Storage.Wal;

/// <summary>A snapshot position to replay from: entries at or below <see cref="Index"/> are skipped.</summary>
/// <param name="Index">Index of the last entry covered by the snapshot.</param>
/// <param name="Term">Term of that entry.</param>
internal readonly record struct WalReplayStart(ulong Index, ulong Term);

/// <summary>What <see cref="WriteAheadLog.Open(string, WalOptions, Microsoft.Extensions.Logging.ILogger, WalReplayStart?, out WalReplay)"/> read back.</summary>
internal sealed class WalReplay
{
    public WalReplay(HardState? hardState, SnapshotMetadata? snapshot, IReadOnlyList<Entry> entries, long discardedTailBytes)
    {
        HardState = hardState;
        Snapshot = snapshot;
        Entries = entries;
        DiscardedTailBytes = discardedTailBytes;
    }

    /// <summary>The last hard state written, or null if none was ever written.</summary>
    public HardState? HardState { get; }

    /// <summary>The newest (last written) snapshot marker, or null.</summary>
    public SnapshotMetadata? Snapshot { get; }

    /// <summary>
    /// The live entries in index order, contiguous: after the replay start when one was given,
    /// otherwise after <see cref="Snapshot"/> (or all of them). Where raft overwrote an uncommitted
    /// tail, the later records won.
    /// </summary>
    public IReadOnlyList<Entry> Entries { get; }

    /// <summary>Bytes of torn or corrupt tail cut from the last segment on open (0 when clean).</summary>
    public long DiscardedTailBytes { get; }
}
