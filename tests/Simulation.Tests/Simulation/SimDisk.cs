using Coordination.Raft.Protocol;

namespace Coordination.Simulation.Tests.Simulation;

/// <summary>
/// A member's simulated disk. Writes go to a buffer that only <see cref="Sync"/> makes durable;
/// <see cref="Crash"/> throws the buffer away, as a power loss does with unsynced writes.
/// </summary>
public sealed class SimDisk
{
    private readonly List<Action> _unsynced = new();

    /// <summary>The durable hard state.</summary>
    public HardState HardState { get; private set; } = new();

    /// <summary>The durable snapshot (with the state machine's image), if any.</summary>
    public Snapshot? Snapshot { get; private set; }

    /// <summary>The durable entries after the snapshot, in index order.</summary>
    public List<Entry> Entries { get; } = new();

    /// <summary>Number of writes not yet synced.</summary>
    public int UnsyncedWrites => _unsynced.Count;

    /// <summary>Buffers a hard state.</summary>
    public void Write(HardState hardState) => _unsynced.Add(() => HardState = hardState.Clone());

    /// <summary>Buffers entries; each replaces any stored entry at its index or after.</summary>
    public void Write(IReadOnlyList<Entry> entries)
    {
        if (entries.Count == 0) return;
        var copy = entries.ToList();
        _unsynced.Add(() =>
        {
            var first = copy[0].Index;
            Entries.RemoveAll(e => e.Index >= first);
            var snapIndex = Snapshot?.Metadata.Index ?? 0;
            foreach (var e in copy)
            {
                if (e.Index > snapIndex) Entries.Add(e);
            }
        });
    }

    /// <summary>Buffers a snapshot received from the leader: it replaces the whole log.</summary>
    public void Write(Snapshot snapshot) => _unsynced.Add(() =>
    {
        Snapshot = snapshot;
        Entries.Clear();
    });

    /// <summary>Saves the member's own snapshot durably and releases the entries it covers.</summary>
    public void SaveOwnSnapshot(Snapshot snapshot)
    {
        Sync();
        if (Snapshot is not null && Snapshot.Metadata.Index >= snapshot.Metadata.Index) return;
        Snapshot = snapshot;
        Entries.RemoveAll(e => e.Index <= snapshot.Metadata.Index);
    }

    /// <summary>Makes every buffered write durable, in order.</summary>
    public void Sync()
    {
        foreach (var write in _unsynced) write();
        _unsynced.Clear();
    }

    /// <summary>Loses every write not yet synced.</summary>
    public void Crash() => _unsynced.Clear();
}
