namespace Coordination.Benchmark;

/// <summary>Percentiles (nearest rank), average and extremes of a set of latencies, in milliseconds.</summary>
internal sealed class LatencySummary
{
    private LatencySummary()
    {
    }

    public long Count { get; private init; }

    public double MinMs { get; private init; }

    public double AvgMs { get; private init; }

    public double P50Ms { get; private init; }

    public double P90Ms { get; private init; }

    public double P99Ms { get; private init; }

    public double P999Ms { get; private init; }

    public double MaxMs { get; private init; }

    /// <summary>Summarises <paramref name="ticks"/> (Stopwatch ticks); sorts the array in place.</summary>
    public static LatencySummary FromTicks(long[] ticks)
    {
        if (ticks.Length == 0)
        {
            return new LatencySummary();
        }

        Array.Sort(ticks);
        double sum = 0;
        foreach (var t in ticks)
        {
            sum += t;
        }

        return new LatencySummary
        {
            Count = ticks.Length,
            MinMs = LatencyRecorder.TicksToMs(ticks[0]),
            AvgMs = LatencyRecorder.TicksToMs(sum / ticks.Length),
            P50Ms = Percentile(ticks, 0.50),
            P90Ms = Percentile(ticks, 0.90),
            P99Ms = Percentile(ticks, 0.99),
            P999Ms = Percentile(ticks, 0.999),
            MaxMs = LatencyRecorder.TicksToMs(ticks[^1]),
        };
    }

    public string Describe() => Count == 0
        ? "no samples"
        : FormattableString.Invariant(
            $"min {MinMs:F3}  avg {AvgMs:F3}  p50 {P50Ms:F3}  p90 {P90Ms:F3}  p99 {P99Ms:F3}  p99.9 {P999Ms:F3}  max {MaxMs:F3}");

    private static double Percentile(long[] sorted, double q)
    {
        var rank = (long)Math.Ceiling(q * sorted.Length);
        return LatencyRecorder.TicksToMs(sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)]);
    }
}
