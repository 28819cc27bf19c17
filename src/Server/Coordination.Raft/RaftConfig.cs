using System;
using System.Collections.Generic;

namespace Coordination.Raft;

/// <summary>
/// Configuration of one consensus member. Time is counted in ticks delivered by the caller;
/// randomness comes from <see cref="Seed"/>, so a run is a pure function of its inputs.
/// </summary>
public sealed record RaftConfig
{
    /// <summary>This member's id (non-zero).</summary>
    public required ulong Id { get; init; }

    /// <summary>
    /// The voting members of a cluster bootstrapped from scratch. Ignored when the member restarts
    /// from a snapshot (whose configuration wins). A member joining an existing cluster passes an
    /// empty list and learns the configuration from the leader's snapshot.
    /// </summary>
    public required IReadOnlyList<ulong> Voters { get; init; }

    /// <summary>The non-voting members of a cluster bootstrapped from scratch.</summary>
    public IReadOnlyList<ulong> Learners { get; init; } = [];

    /// <summary>Ticks without hearing from a leader before a follower campaigns (randomized in [n, 2n)).</summary>
    public int ElectionTicks { get; init; } = 10;

    /// <summary>Ticks between a leader's heartbeats.</summary>
    public int HeartbeatTicks { get; init; } = 1;

    /// <summary>Seed of the member's random source (election timeout jitter).</summary>
    public int Seed { get; init; }

    /// <summary>
    /// Campaign in two phases: first ask whether a vote would be granted without raising the term,
    /// so a member cut off from the cluster cannot force a new term when it returns.
    /// </summary>
    public bool PreVote { get; init; } = true;

    /// <summary>
    /// A leader steps down when it has not heard from a quorum within an election timeout, and
    /// followers that heard from a leader within that time refuse votes (leader stickiness).
    /// </summary>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>Append messages in flight to one follower before the leader waits for acknowledgements.</summary>
    public int MaxInflightMessages { get; init; } = 256;

    /// <summary>Approximate upper bound on the entry bytes of one append message (at least one entry is always sent).</summary>
    public long MaxMessageBytes { get; init; } = 1024 * 1024;

    /// <summary>Applied entries kept in memory behind the latest snapshot to catch up slow followers without a snapshot.</summary>
    public int RetainedEntries { get; init; } = 1000;

    /// <summary>Throws when the configuration cannot work.</summary>
    public void Validate()
    {
        if (Id == 0) throw new ArgumentException("raft: member id must be non-zero");
        if (HeartbeatTicks <= 0) throw new ArgumentException("raft: heartbeat ticks must be positive");
        if (ElectionTicks <= HeartbeatTicks) throw new ArgumentException("raft: election ticks must exceed heartbeat ticks");
        if (MaxInflightMessages <= 0) throw new ArgumentException("raft: max in-flight messages must be positive");
        if (RetainedEntries < 0) throw new ArgumentException("raft: retained entries must not be negative");
    }
}
