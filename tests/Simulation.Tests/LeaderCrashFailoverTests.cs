using Coordination.Simulation.Tests.Simulation;

namespace Coordination.Simulation.Tests;

/// <summary>
/// When the leader's process crashes, the survivors' transports find its port closed and tell their
/// cores, which elect a new leader within a few heartbeats instead of an election timeout (1 s here).
/// </summary>
public class LeaderCrashFailoverTests(ITestOutputHelper output)
{
    private const long FirstCrashAt = 5_000;
    private const long CrashEvery = 5_000;
    private const long LastCrashAt = 40_000;

    /// <summary>
    /// The median time from a leader's crash to the next leader. With reports: up to 62 ms until the
    /// report, two or three ticks (up to 110 ms each, as a member's clock may be 10 % slow), the
    /// next tick, then two round trips of votes. Without reports no follower can start before an
    /// election timeout, 10 ticks of at least 90 ms after the last heartbeat.
    /// </summary>
    private const long FastMedianMs = 600;

    [Theory]
    [InlineData(3)]
    [InlineData(5)]
    public void A_crashed_leader_is_replaced_within_a_few_heartbeats_when_the_survivors_hear_its_port_is_closed(int members)
    {
        var failovers = new List<long>();
        for (var seed = 1; seed <= 5; seed++)
        {
            var (result, crashes) = Run(seed, members, reportCrashes: true);
            Assert.True(result.Ok, $"seed {seed}: " + string.Join("\n", result.Violations));
            Assert.True(result.LeaderDownReports > 0, $"seed {seed}: no follower heard that its leader was down");
            failovers.AddRange(Failovers(result, crashes));
        }
        var median = Median(failovers);
        output.WriteLine($"{members} members, {failovers.Count} leader crashes: median {median} ms, longest {failovers.Max()} ms");
        Assert.True(failovers.Count >= 5 * 6, $"only {failovers.Count} leader crashes were measured");
        Assert.True(median <= FastMedianMs, $"median failover {median} ms");
    }

    [Fact]
    public void Negative_control_without_reports_the_survivors_wait_for_their_election_timeout()
    {
        var failovers = new List<long>();
        for (var seed = 1; seed <= 5; seed++)
        {
            var (result, crashes) = Run(seed, 3, reportCrashes: false);
            Assert.True(result.Ok, $"seed {seed}: " + string.Join("\n", result.Violations));
            Assert.Equal(0, result.LeaderDownReports);
            failovers.AddRange(Failovers(result, crashes));
        }
        var median = Median(failovers);
        output.WriteLine($"without reports, {failovers.Count} leader crashes: median {median} ms, shortest {failovers.Min()} ms");
        Assert.True(median > FastMedianMs, $"median failover {median} ms without reports: the bound cannot tell them apart");
    }

    private static (SimulationResult Result, List<(long At, ulong Term)> Crashes) Run(int seed, int members, bool reportCrashes)
    {
        var crashes = new List<(long At, ulong Term)>();
        var result = new Simulator(new SimulationOptions
        {
            Seed = seed,
            Members = members,
            ReportCrashes = reportCrashes,
            Plan = sim =>
            {
                for (var t = FirstCrashAt; t <= LastCrashAt; t += CrashEvery)
                {
                    sim.Queue.At(t, () =>
                    {
                        if (sim.Leader is not { Node: { } node } leader) return;
                        crashes.Add((sim.Queue.Now, node.Term));
                        sim.Log($"crash of leader {leader.Id}");
                        leader.Crash();
                        sim.Queue.After(2_000, leader.Restart);
                    });
                }
            },
        }).Run();
        return (result, crashes);
    }

    /// <summary>For each crash of a leader: the time until a leader of a later term was first seen.</summary>
    private static IEnumerable<long> Failovers(SimulationResult result, List<(long At, ulong Term)> crashes)
    {
        foreach (var (at, term) in crashes)
        {
            var next = result.LeaderTerms.FirstOrDefault(l => l.At >= at && l.Term > term);
            if (next.Leader != 0) yield return next.At - at;
        }
    }

    private static long Median(List<long> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? long.MaxValue : sorted[sorted.Count / 2];
    }
}
