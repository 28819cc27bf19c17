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

    /// <summary>The voting members of a cluster bootstrapped from scratch (must contain <see cref="Id"/>).</summary>
    public required IReadOnlyList<ulong> Voters { get; init; }

    /// <summary>Ticks without hearing from a leader before a follower campaigns (randomized in [n, 2n)).</summary>
    public int ElectionTicks { get; init; } = 10;

    /// <summary>Ticks between a leader's heartbeats.</summary>
    public int HeartbeatTicks { get; init; } = 1;

    /// <summary>Seed of the member's random source (election timeout jitter).</summary>
    public int Seed { get; init; }

    /// <summary>Throws when the configuration cannot work.</summary>
    public void Validate()
    {
        if (Id == 0) throw new ArgumentException("raft: member id must be non-zero");
        if (Voters.Count == 0) throw new ArgumentException("raft: at least one voter is required");
        if (HeartbeatTicks <= 0) throw new ArgumentException("raft: heartbeat ticks must be positive");
        if (ElectionTicks <= HeartbeatTicks) throw new ArgumentException("raft: election ticks must exceed heartbeat ticks");
    }
}
