using Coordination.Simulation.Tests.Simulation;

namespace Coordination.Simulation.Tests;

/// <summary>
/// The simulator's checks must catch deliberately broken variants; otherwise a green run of the
/// seeded schedules would prove nothing.
/// </summary>
public class NegativeControlTests(ITestOutputHelper output)
{
    private const int Seeds = 40;

    [Fact]
    public void Serving_linearizable_reads_from_local_state_without_ReadIndex_is_flagged_as_not_linearizable()
    {
        var results = SimulationRuns.RunMany(Seeds, 1, seed => new SimulationOptions { Seed = seed, BrokenLocalReads = true });
        var flagged = results.Where(r => r.Violations.Any(v => v.Contains("linearizability:", StringComparison.Ordinal))).ToList();
        output.WriteLine($"{flagged.Count} of {Seeds} schedules flagged; first: seed {flagged.FirstOrDefault()?.Seed}\n{flagged.FirstOrDefault()?.Violations[0]}");
        Assert.True(flagged.Count > 0, "the linearizability check did not catch stale local reads");
    }

    [Fact]
    public void Acknowledging_before_persisting_is_flagged_after_crashes_including_by_the_linearizability_check()
    {
        const int seeds = 16;
        var results = SimulationRuns.RunMany(seeds, 1, seed => new SimulationOptions { Seed = seed, BrokenAckBeforeSync = true, PowerLossEveryMs = 4_000 });
        var flagged = results.Where(r => !r.Ok).ToList();
        var kinds = flagged.SelectMany(r => r.Violations.Select(v => v[(v.IndexOf(": ", StringComparison.Ordinal) + 2)..].Split(':')[0]).Distinct())
            .GroupBy(k => k).OrderBy(g => g.Key).Select(g => $"{g.Key} in {g.Count()}");
        output.WriteLine($"{flagged.Count} of {seeds} schedules flagged; {string.Join(", ", kinds)}; first: seed {flagged.FirstOrDefault()?.Seed}\n{flagged.FirstOrDefault()?.Violations[0]}");
        Assert.True(flagged.Count > 0, "no check caught acknowledgements sent before the data was durable");
        Assert.Contains(results, r => r.Linearizability == Testing.Linearizability.Verdict.NotLinearizable);
    }

    [Fact]
    public void The_correct_variant_passes_the_same_schedules_with_power_losses()
    {
        // The control for the controls: the same seeds without the breakage are clean.
        var results = SimulationRuns.RunMany(Seeds, 1, seed => new SimulationOptions { Seed = seed, PowerLossEveryMs = 4_000 });
        Assert.True(results.All(r => r.Ok), SimulationRuns.Describe(results.Where(r => !r.Ok), ""));
    }
}
