using System.Diagnostics;
using Coordination.Simulation.Tests.Simulation;
using Coordination.Testing.Linearizability;

namespace Coordination.Simulation.Tests;

/// <summary>
/// Whole clusters under random faults on virtual time: every seeded schedule must keep election
/// safety, log matching, leader completeness, state-machine safety, durability of acknowledged
/// writes and linearizability, and make progress once the faults heal.
/// </summary>
public class SimulatedClusterTests(ITestOutputHelper output)
{
    [Fact]
    public void Seeded_fault_schedules_keep_every_safety_invariant_and_make_progress_after_healing()
    {
        var count = SimulationRuns.ScheduleCount;
        var started = Stopwatch.GetTimestamp();
        var results = SimulationRuns.RunMany(count, SimulationRuns.SeedBase, seed => new SimulationOptions { Seed = seed });
        var elapsed = Stopwatch.GetElapsedTime(started);

        output.WriteLine($"{count} schedules of 60 simulated seconds in {elapsed.TotalSeconds:F1}s: " +
            $"{results.Sum(r => r.Events)} events, {results.Sum(r => r.Operations)} client operations, " +
            $"{results.Sum(r => r.AcknowledgedWrites)} acknowledged writes, {results.Sum(r => r.Elections)} elections, " +
            $"{results.Count(r => r.Linearizability == Verdict.Unknown)} histories undecided by the checker's budget");
        long Delivered(Coordination.Raft.Protocol.MessageType t) => results.Sum(r => r.DeliveredByType[(int)t]);
        output.WriteLine($"completed linearizable reads {results.Sum(r => r.CompletedReads)}; delivered: " +
            string.Join(", ", Enum.GetValues<Coordination.Raft.Protocol.MessageType>().Select(t => $"{t} {Delivered(t)}")));
        var failures = results.Where(r => !r.Ok).ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} of {count} schedules failed.\n" + SimulationRuns.Describe(failures, ""));
        // The schedules must exercise something: most acknowledge writes and every one elects a leader.
        Assert.True(results.All(r => r.Elections > 0), "a schedule elected no leader at all");
        Assert.True(results.Sum(r => r.AcknowledgedWrites) > count * 50, "the clients got too few writes acknowledged");
        Assert.True(results.Sum(r => r.CompletedReads) > count * 50, "the clients got too few linearizable reads answered");
        // The faults must reach the paths they are meant for: snapshots, transfers, pre-votes, forwarded proposals.
        Assert.True(Delivered(Coordination.Raft.Protocol.MessageType.MsgSnap) > 0, "no snapshot was ever sent");
        Assert.True(Delivered(Coordination.Raft.Protocol.MessageType.MsgTimeoutNow) > 0, "no leadership transfer happened");
        Assert.True(Delivered(Coordination.Raft.Protocol.MessageType.MsgPreVote) > 0, "no pre-vote happened");
        Assert.True(Delivered(Coordination.Raft.Protocol.MessageType.MsgProp) > 0, "no proposal was forwarded");
        Assert.True(results.Sum(r => r.LeaderDownReports) > 0, "no follower was ever told that its leader was down");
    }

    [Fact]
    public void The_same_seed_replays_the_same_trace_and_another_seed_does_not()
    {
        var a = new Simulator(new SimulationOptions { Seed = 4242 }).Run();
        var b = new Simulator(new SimulationOptions { Seed = 4242 }).Run();
        var c = new Simulator(new SimulationOptions { Seed = 4243 }).Run();

        Assert.Equal(a.TraceHash, b.TraceHash);
        Assert.Equal(a.Events, b.Events);
        Assert.Equal(a.Operations, b.Operations);
        Assert.NotEqual(a.TraceHash, c.TraceHash);
    }

    [Fact]
    public void A_seed_from_the_environment_replays_with_a_trace()
    {
        // SIM_SEED=<n> replays one schedule and prints its trace (what a failing run asks for).
        var seed = int.TryParse(Environment.GetEnvironmentVariable("SIM_SEED"), out var s) ? s : 7;
        var result = new Simulator(new SimulationOptions { Seed = seed, Trace = true }).Run();
        output.WriteLine(result.Log ?? "");
        foreach (var v in result.Violations) output.WriteLine(v);
        Assert.False(string.IsNullOrEmpty(result.Log));
        Assert.True(result.Ok, $"seed {seed}: " + string.Join("\n", result.Violations));
    }
}
