namespace Coordination.Simulation.Tests.Simulation;

/// <summary>What one simulated run does. Everything random is drawn from <see cref="Seed"/>.</summary>
public sealed record SimulationOptions
{
    /// <summary>The seed every random choice of the run derives from.</summary>
    public required int Seed { get; init; }

    /// <summary>Number of members (chosen from the seed when 0: 3 or 5).</summary>
    public int Members { get; init; }

    /// <summary>Simulated duration in milliseconds.</summary>
    public long DurationMs { get; init; } = 60_000;

    /// <summary>Faults are injected until this time; then the network heals, crashed members restart, and the cluster must make progress.</summary>
    public long HealAtMs { get; init; } = 48_000;

    /// <summary>After healing, an acknowledged write must have been issued and acknowledged within this time.</summary>
    public long ProgressBoundMs { get; init; } = 6_000;

    /// <summary>Nominal tick interval; each member's clock runs up to ±10 % fast or slow.</summary>
    public long TickMs { get; init; } = 100;

    /// <summary>Ticks per election timeout.</summary>
    public int ElectionTicks { get; init; } = 10;

    /// <summary>Clients issuing operations.</summary>
    public int Clients { get; init; } = 3;

    /// <summary>Keys the clients use.</summary>
    public int Keys { get; init; } = 3;

    /// <summary>Client timeout; an operation without an answer by then has an unknown outcome.</summary>
    public long ClientTimeoutMs { get; init; } = 2_000;

    /// <summary>A member takes a snapshot after this many applied entries.</summary>
    public int SnapshotEvery { get; init; } = 40;

    /// <summary>The core's check-quorum setting (turned off only by a negative control).</summary>
    public bool CheckQuorum { get; init; } = true;

    /// <summary>Whether faults are injected at all.</summary>
    public bool Faults { get; init; } = true;

    /// <summary>Mean time between injected faults.</summary>
    public long MeanFaultIntervalMs { get; init; } = 2_500;

    /// <summary>When positive, every member crashes at once at this period (in addition to the random faults) until the heal.</summary>
    public long PowerLossEveryMs { get; init; }

    /// <summary>
    /// Whether the survivors' transports report a crashed member's refused connections to their
    /// cores (as the server's peer transport does); off to compare with elections by timeout alone.
    /// </summary>
    public bool ReportCrashes { get; init; } = true;

    /// <summary>Explicit fault plan instead of random faults (scenario runs).</summary>
    public Action<Simulator>? Plan { get; init; }

    /// <summary>
    /// Negative control: serve linearizable reads from local state without ReadIndex. The
    /// linearizability check must flag it.
    /// </summary>
    public bool BrokenLocalReads { get; init; }

    /// <summary>
    /// Negative control: send messages (votes, append acknowledgements) before the batch is synced;
    /// the disk syncs only now and then, and a crash loses what was not synced. The checks must flag it.
    /// </summary>
    public bool BrokenAckBeforeSync { get; init; }

    /// <summary>Ends the run at the first violation (negative controls only need to know one was found).</summary>
    public bool StopAtFirstViolation { get; init; }

    /// <summary>Records a readable trace of the run (for a replayed failing seed).</summary>
    public bool Trace { get; init; }
}
