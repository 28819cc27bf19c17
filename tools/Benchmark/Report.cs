using System.Text;
using System.Text.Json;

namespace Coordination.Benchmark;

/// <summary>
/// Prints a short human summary followed by exactly one JSON line, always the last line of stdout, so scripts can
/// take <c>tail -n 1</c>.
/// </summary>
internal sealed class Report(string mode, Options options)
{
    private readonly List<string> _lines = [];
    private readonly List<(string Key, double Value)> _fields = [];

    /// <summary>A line of the human summary, printed before the standard latency lines.</summary>
    public void AddLine(string line) => _lines.Add(line);

    /// <summary>An extra numeric field of the JSON line, after the standard ones.</summary>
    public void AddField(string key, double value) => _fields.Add((key, value));

    public void Print(LatencySummary latency, long total, long errors, double qps, double seconds, bool interrupted)
    {
        var text = new StringBuilder();
        text.AppendLine(FormattableString.Invariant(
            $"Summary ({mode}, {options.Clients} clients, {options.Conns} conns, {options.Endpoints.Count} endpoint(s)){(interrupted ? " INTERRUPTED" : "")}:"));
        foreach (var line in _lines)
        {
            text.Append("  ").AppendLine(line);
        }

        text.AppendLine(FormattableString.Invariant($"  Total:       {total} ({latency.Count} ok, {errors} errors) in {seconds:F4} s"));
        text.AppendLine(FormattableString.Invariant($"  Rate:        {qps:F1}/s"));
        text.AppendLine($"  Latency ms:  {latency.Describe()}");
        Console.Out.Write(text.ToString());
        Console.Out.WriteLine(Json(latency, total, errors, qps, seconds, interrupted));
        Console.Out.Flush();
    }

    private string Json(LatencySummary latency, long total, long errors, double qps, double seconds, bool interrupted)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("mode", mode);
            json.WriteNumber("clients", options.Clients);
            json.WriteNumber("conns", options.Conns);
            json.WriteNumber("total", total);
            json.WriteNumber("qps", Math.Round(qps, 1));
            json.WriteNumber("p50_ms", Math.Round(latency.P50Ms, 3));
            json.WriteNumber("p90_ms", Math.Round(latency.P90Ms, 3));
            json.WriteNumber("p99_ms", Math.Round(latency.P99Ms, 3));
            json.WriteNumber("p999_ms", Math.Round(latency.P999Ms, 3));
            json.WriteNumber("avg_ms", Math.Round(latency.AvgMs, 3));
            json.WriteNumber("max_ms", Math.Round(latency.MaxMs, 3));
            json.WriteNumber("errors", errors);
            json.WriteNumber("seconds", Math.Round(seconds, 3));
            foreach (var (key, value) in _fields)
            {
                json.WriteNumber(key, Math.Round(value, 3));
            }

            if (interrupted)
            {
                json.WriteBoolean("interrupted", true);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
