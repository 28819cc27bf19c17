using System.Collections.Generic;
using Coordination.Raft.Protocol;

namespace Coordination.Raft;

/// <summary>
/// A batch of work the consensus core hands to its host. The host must, in this order:
/// <list type="number">
/// <item>persist <see cref="Snapshot"/> (restoring the state machine from its image), then
/// <see cref="HardState"/> and <see cref="Entries"/> — an entry replaces any stored entry with the
/// same or a higher index — and fsync when <see cref="MustSync"/>;</item>
/// <item>only then send <see cref="Messages"/> (votes and acknowledgements in them promise that
/// the batch is durable);</item>
/// <item>apply <see cref="CommittedEntries"/> in order and serve <see cref="ReadStates"/> once the
/// applied index reaches theirs;</item>
/// <item>call <see cref="RaftNode.Advance"/>.</item>
/// </list>
/// </summary>
public sealed class Ready
{
    internal Ready(HardState? hardState, IReadOnlyList<Entry> entries, IReadOnlyList<Entry> committedEntries, bool mustSync,
        IReadOnlyList<Message> messages, Snapshot? snapshot, IReadOnlyList<ReadState> readStates)
    {
        HardState = hardState;
        Entries = entries;
        CommittedEntries = committedEntries;
        MustSync = mustSync;
        Messages = messages;
        Snapshot = snapshot;
        ReadStates = readStates;
    }

    /// <summary>The hard state to persist, or null when it did not change.</summary>
    public HardState? HardState { get; }

    /// <summary>New log entries to append to stable storage.</summary>
    public IReadOnlyList<Entry> Entries { get; }

    /// <summary>Entries known to be committed, to apply to the state machine in order.</summary>
    public IReadOnlyList<Entry> CommittedEntries { get; }

    /// <summary>True when the host must fsync before acting on anything that depends on this batch.</summary>
    public bool MustSync { get; }

    /// <summary>Messages to peers, to send after the batch is durable. Always empty for a single voter.</summary>
    public IReadOnlyList<Message> Messages { get; }

    /// <summary>A snapshot from the leader to persist and restore the state machine from, or null.</summary>
    public Snapshot? Snapshot { get; }

    /// <summary>Answers to linearizable read requests.</summary>
    public IReadOnlyList<ReadState> ReadStates { get; }
}
