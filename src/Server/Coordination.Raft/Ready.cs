using System.Collections.Generic;
using Coordination.Raft.Protocol;

namespace Coordination.Raft;

/// <summary>
/// A batch of work the consensus core hands to its host. The host must, in this order:
/// persist <see cref="HardState"/> and <see cref="Entries"/> (fsync when <see cref="MustSync"/>),
/// then apply <see cref="CommittedEntries"/> in order, then call <see cref="RaftNode.Advance"/>.
/// Nothing in a batch may be acted on before what it depends on is durable.
/// </summary>
public sealed class Ready
{
    internal Ready(HardState? hardState, IReadOnlyList<Entry> entries, IReadOnlyList<Entry> committedEntries, bool mustSync)
    {
        HardState = hardState;
        Entries = entries;
        CommittedEntries = committedEntries;
        MustSync = mustSync;
    }

    /// <summary>The hard state to persist, or null when it did not change.</summary>
    public HardState? HardState { get; }

    /// <summary>New log entries to append to stable storage.</summary>
    public IReadOnlyList<Entry> Entries { get; }

    /// <summary>Entries known to be committed, to apply to the state machine in order.</summary>
    public IReadOnlyList<Entry> CommittedEntries { get; }

    /// <summary>True when the host must fsync before acting on anything that depends on this batch.</summary>
    public bool MustSync { get; }
}
