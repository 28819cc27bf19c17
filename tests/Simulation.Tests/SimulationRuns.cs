using System.Globalization;
using Coordination.Simulation.Tests.Simulation;

namespace Coordination.Simulation.Tests;

/// <summary>Runs many seeded simulations in parallel and reports failing seeds with a replay recipe.</summary>
internal static class SimulationRuns
{
    /// <summary>Schedules per run of the suite: <c>SIM_SCHEDULES</c>, default 500.</summary>
    public static int ScheduleCount => int.TryParse(Environment.GetEnvironmentVariable("SIM_SCHEDULES"), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 500;

    /// <summary>First seed: <c>SIM_SEED_BASE</c>, default 1 (set it to explore new schedules in a soak).</summary>
    public static int SeedBase => int.TryParse(Environment.GetEnvironmentVariable("SIM_SEED_BASE"), CultureInfo.InvariantCulture, out var n) ? n : 1;

    public static List<SimulationResult> RunMany(int count, int seedBase, Func<int, SimulationOptions> options)
    {
        var results = new SimulationResult[count];
        // Half the cores: ./test.sh runs the process-level suites at the same time, and their
        // timing-sensitive tests must not starve.
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount / 2) }, i =>
        {
            results[i] = new Simulator(options(seedBase + i)).Run();
        });
        return results.ToList();
    }

    public static string Describe(IEnumerable<SimulationResult> failures, string replayHint) =>
        string.Join("\n", failures.Take(5).Select(f =>
            $"seed {f.Seed} failed ({replayHint}SIM_SEED={f.Seed} to replay with a trace):\n  " + string.Join("\n  ", f.Violations)));
}
