using System.Text;
using Coordination.Raft;
using Coordination.Testing.Linearizability;

namespace Coordination.Simulation.Tests.Simulation;

/// <summary>
/// Runs a whole cluster in one process on virtual time: members, the simulated network and disks,
/// clients, and a fault schedule, all drawn from one seed. The same seed replays the same run
/// (same <see cref="SimulationResult.TraceHash"/>).
/// </summary>
public sealed class Simulator
{
    private readonly Random _random;
    private readonly List<Operation<KvInput, string?>> _history = new();
    private readonly HashSet<long> _acknowledged = new();
    private readonly List<long> _ackTimes = new();
    private readonly StringBuilder? _log;

    /// <summary>Creates the cluster for <paramref name="options"/>.</summary>
    public Simulator(SimulationOptions options)
    {
        Options = options;
        _random = new Random(options.Seed);
        _log = options.Trace ? new StringBuilder() : null;
        Queue = new EventQueue();
        Trace = new TraceHash();
        Invariants = new Invariants(this);
        var count = options.Members > 0 ? options.Members : _random.Next(2) == 0 ? 3 : 5;
        var ids = Enumerable.Range(1, count).Select(i => (ulong)i).ToList();
        Network = new SimNetwork(Queue, new Random(_random.Next()), id => Members![(int)id - 1], Trace);
        Members = ids.Select(id => new SimMember(this, id, new RaftConfig
        {
            Id = id,
            Voters = ids,
            ElectionTicks = options.ElectionTicks,
            HeartbeatTicks = 1,
            Seed = _random.Next(),
            RetainedEntries = 5,
            MaxInflightMessages = 16,
            MaxMessageBytes = 4096,
            CheckQuorum = options.CheckQuorum,
        })).ToList();
        Clients = Enumerable.Range(1, options.Clients).Select(i => new SimClient(this, i, new Random(_random.Next()))).ToList();
    }

    /// <summary>The run's options.</summary>
    public SimulationOptions Options { get; }

    /// <summary>Virtual time.</summary>
    public EventQueue Queue { get; }

    /// <summary>The hash of everything that happened.</summary>
    public TraceHash Trace { get; }

    /// <summary>The network.</summary>
    public SimNetwork Network { get; }

    /// <summary>The members, by id - 1.</summary>
    public List<SimMember> Members { get; }

    /// <summary>The clients.</summary>
    public List<SimClient> Clients { get; }

    /// <summary>The safety checks.</summary>
    public Invariants Invariants { get; }

    /// <summary>The member currently leading with the highest term, if any.</summary>
    public SimMember? Leader => Members.Where(m => m.Node?.Role == RaftRole.Leader).MaxBy(m => m.Node!.Term);

    /// <summary>Runs to the end and checks everything.</summary>
    public SimulationResult Run()
    {
        foreach (var m in Members) ScheduleTicks(m);
        foreach (var c in Clients) c.Start();
        if (Options.Plan is not null) Options.Plan(this);
        else if (Options.Faults) ScheduleRandomFaults();
        Queue.At(Options.HealAtMs, Heal);
        for (var t = 5_000L; t < Options.DurationMs; t += 5_000) Queue.At(t, () => Invariants.CheckLogMatching(Members));
        if (Options.PowerLossEveryMs > 0)
        {
            for (var t = Options.PowerLossEveryMs; t < Options.HealAtMs; t += Options.PowerLossEveryMs) Queue.At(t, PowerLoss);
        }
        // A healthy run needs a few hundred thousand events; a message storm is a failure, not a hang.
        var events = Queue.RunUntil(Options.DurationMs, MaxEvents, Options.StopAtFirstViolation ? () => Invariants.Violations.Count > 0 : null);
        if (Options.StopAtFirstViolation && Invariants.Violations.Count > 0) return Result(events, Verdict.Unknown);
        if (events >= MaxEvents)
        {
            Invariants.Fail($"runaway: {MaxEvents} events by {Queue.Now}ms (a message storm)");
            return Result(events, Verdict.Unknown);
        }
        Invariants.CheckLogMatching(Members);
        CheckProgressAfterHeal();
        CheckNoAcknowledgedWriteLost();
        var lin = LinearizabilityChecker.Check(KvModel.Instance, _history, maxSteps: 2_000_000);
        if (lin.Verdict == Verdict.NotLinearizable)
            Invariants.Fail($"linearizability: key {lin.Partition} has no linearization:\n{lin.Explanation}");
        return Result(events, lin.Verdict);
    }

    private const long MaxEvents = 500_000;

    private SimulationResult Result(long events, Verdict linearizability) =>
        new(Options.Seed, Trace.Value, Invariants.Violations.ToList(), events, _history.Count,
            _acknowledged.Count, Invariants.Elections, linearizability, _ackTimes.ToList(), _log?.ToString(), Network.DeliveredByType.ToArray(), _history.Count(o => o.Input.Op == KvOp.Get),
            Members.Sum(m => m.LeaderDownReports), Invariants.LeaderTerms);

    /// <summary>Every member crashes at once and restarts shortly after.</summary>
    public void PowerLoss()
    {
        Log("power loss: every member crashes");
        foreach (var m in Members) m.Crash();
        Queue.After(300, () =>
        {
            foreach (var m in Members) m.Restart();
        });
    }

    /// <summary>
    /// A crashed member's port refuses connections: each member still linked to it both ways hears so
    /// from its transport a few to a few tens of milliseconds later (when its stream broke and it
    /// tried again), unless the member is back by then. Cut links time out instead: no report.
    /// </summary>
    internal void OnCrash(SimMember crashed)
    {
        if (!Options.ReportCrashes) return;
        foreach (var other in Members)
        {
            if (other == crashed || Network.IsCut(other.Id, crashed.Id) || Network.IsCut(crashed.Id, other.Id)) continue;
            var delay = 2 + _random.Next(60);
            var restarts = crashed.Restarts;
            Queue.After(delay, () =>
            {
                if (!crashed.IsUp && crashed.Restarts == restarts) other.ReportPeerDown(crashed.Id);
            });
        }
    }

    /// <summary>True once the final heal happened: no more crashes.</summary>
    public bool Healed { get; private set; }

    /// <summary>Writes a line to the trace of a replayed run.</summary>
    public void Log(string line) => _log?.Append(Queue.Now).Append("ms ").AppendLine(line);

    internal void Record(Operation<KvInput, string?> op) => _history.Add(op);

    internal void Acknowledged(long requestId)
    {
        _acknowledged.Add(requestId);
        _ackTimes.Add(Queue.Now);
    }

    /// <summary>Heals every fault for good: links, loss, crashed members.</summary>
    public void Heal()
    {
        Healed = true;
        Network.HealAll(seal: true);
        foreach (var m in Members) m.Restart();
        Log("healed");
    }

    private void ScheduleTicks(SimMember member)
    {
        // Each member's clock runs at its own rate: up to 10 % fast or slow.
        var interval = Options.TickMs * (90 + _random.Next(21)) / 100;
        void Tick()
        {
            member.Tick();
            Queue.After(interval, Tick);
        }
        Queue.After(_random.Next((int)interval), Tick);
    }

    private void ScheduleRandomFaults()
    {
        var random = new Random(_random.Next());
        var faults = new FaultInjector(this, random);
        long t = 0;
        while (true)
        {
            t += 200 + random.NextInt64(Options.MeanFaultIntervalMs * 2);
            if (t >= Options.HealAtMs - 500) break;
            var at = t;
            Queue.At(at, faults.InjectOne);
        }
    }

    private void CheckProgressAfterHeal()
    {
        var bound = Options.HealAtMs + Options.ProgressBoundMs;
        if (bound > Options.DurationMs - Options.ClientTimeoutMs) return;
        var progressed = _history.Any(op => op.Input.Op == KvOp.Put && !op.OutcomeUnknown && op.Call >= Options.HealAtMs && op.Return <= bound);
        if (!progressed) Invariants.Fail($"liveness: no write issued after the heal at {Options.HealAtMs}ms was acknowledged by {bound}ms");
    }

    private void CheckNoAcknowledgedWriteLost()
    {
        // After the heal every running member has caught up (or will); the most advanced one must
        // hold every acknowledged write, and every member with the same applied index agrees by hash.
        var best = Members.Where(m => m.IsUp).MaxBy(m => m.Kv.AppliedIndex);
        if (best is null) return;
        foreach (var id in _acknowledged.Order())
        {
            if (!best.Kv.HasApplied(id))
            {
                Invariants.Fail($"durability: acknowledged write {id >> 32}:{id & 0xffffffff} is missing on member {best.Id} (applied {best.Kv.AppliedIndex})");
                return;
            }
        }
    }
}

/// <summary>The outcome of one simulated run.</summary>
public sealed record SimulationResult(int Seed, ulong TraceHash, IReadOnlyList<string> Violations, long Events, int Operations,
    int AcknowledgedWrites, int Elections, Verdict Linearizability, IReadOnlyList<long> AckTimes, string? Log,
    IReadOnlyList<long> DeliveredByType, int CompletedReads, int LeaderDownReports, IReadOnlyList<(long At, ulong Term, ulong Leader)> LeaderTerms)
{
    /// <summary>True when no invariant was violated.</summary>
    public bool Ok => Violations.Count == 0;
}
