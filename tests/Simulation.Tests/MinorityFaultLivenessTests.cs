using Coordination.Simulation.Tests.Simulation;

namespace Coordination.Simulation.Tests;

/// <summary>
/// A minority in trouble must not stall the majority: while one member is cut off in one direction
/// or its links flap, writes keep being acknowledged with only short gaps (an election or two).
/// </summary>
public class MinorityFaultLivenessTests(ITestOutputHelper output)
{
    private const long FaultFrom = 5_000;
    private const long FaultUntil = 45_000;

    /// <summary>
    /// Longest stretch without an acknowledged write while the fault lasts. The worst case is a
    /// leader that stops hearing anyone: it steps down within two election timeouts (1 s each
    /// here), the followers stop hearing it and time out within two more, then an election and a
    /// client timeout (1 s).
    /// </summary>
    private const long MaxGapMs = 6_000;

    public static TheoryData<string, int> Cases() => new()
    {
        { "hears-nothing", 3 }, { "hears-nothing", 5 },
        { "is-not-heard", 3 }, { "is-not-heard", 5 },
        { "flaps", 3 }, { "flaps", 5 },
        { "leader-hears-nothing", 3 }, { "leader-hears-nothing", 5 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Writes_keep_being_acknowledged_while_one_member_is_cut_off_one_way_or_flaps(string fault, int members)
    {
        for (var seed = 1; seed <= 5; seed++)
        {
            var result = new Simulator(new SimulationOptions
            {
                Seed = seed,
                Members = members,
                HealAtMs = FaultUntil,
                ClientTimeoutMs = 1_000,
                Plan = sim => Inject(sim, fault, seed),
            }).Run();

            Assert.True(result.Ok, $"{fault}, {members} members, seed {seed}: " + string.Join("\n", result.Violations));
            var acks = result.AckTimes.Where(t => t >= FaultFrom && t <= FaultUntil).Prepend(FaultFrom).Append(FaultUntil).Order().ToList();
            var gap = acks.Zip(acks.Skip(1), (a, b) => b - a).Max();
            output.WriteLine($"{fault}, {members} members, seed {seed}: {acks.Count - 2} writes acknowledged during the fault, longest gap {gap}ms");
            Assert.True(gap <= MaxGapMs, $"{fault}, {members} members, seed {seed}: no write acknowledged for {gap}ms");
        }
    }

    [Fact]
    public void Negative_control_without_check_quorum_a_leader_that_hears_nothing_stalls_the_cluster()
    {
        // The leader keeps sending heartbeats, so nobody times out, and it cannot commit anything.
        var result = new Simulator(new SimulationOptions
        {
            Seed = 1, Members = 3, HealAtMs = FaultUntil, ClientTimeoutMs = 1_000, CheckQuorum = false,
            Plan = sim => Inject(sim, "leader-hears-nothing", 1),
        }).Run();

        var acks = result.AckTimes.Where(t => t >= FaultFrom && t <= FaultUntil).Prepend(FaultFrom).Append(FaultUntil).Order().ToList();
        var gap = acks.Zip(acks.Skip(1), (a, b) => b - a).Max();
        output.WriteLine($"without check-quorum: longest gap {gap}ms");
        Assert.True(gap > MaxGapMs, $"the liveness bound did not notice a stalled cluster (longest gap {gap}ms)");
    }

    private static void Inject(Simulator sim, string fault, int seed)
    {
        var victim = (ulong)(1 + seed % sim.Members.Count);
        var others = sim.Members.Select(m => m.Id).Where(id => id != victim).ToList();
        switch (fault)
        {
            case "hears-nothing":
                sim.Queue.At(FaultFrom, () => others.ForEach(o => sim.Network.Cut(o, victim)));
                break;
            case "is-not-heard":
                sim.Queue.At(FaultFrom, () => others.ForEach(o => sim.Network.Cut(victim, o)));
                break;
            case "leader-hears-nothing":
                // Whoever leads when the fault starts stops hearing anyone but can still send.
                sim.Queue.At(FaultFrom, () =>
                {
                    var leader = sim.Leader?.Id ?? victim;
                    foreach (var o in sim.Members.Select(m => m.Id).Where(id => id != leader)) sim.Network.Cut(o, leader);
                });
                break;
            case "flaps":
                for (var t = FaultFrom; t < FaultUntil; t += 300)
                {
                    var down = (t - FaultFrom) / 300 % 2 == 0;
                    sim.Queue.At(t, () => others.ForEach(o =>
                    {
                        if (down) { sim.Network.Cut(o, victim); sim.Network.Cut(victim, o); }
                        else { sim.Network.Mend(o, victim); sim.Network.Mend(victim, o); }
                    }));
                }
                break;
        }
    }
}
