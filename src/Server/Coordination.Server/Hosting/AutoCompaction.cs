using System.Globalization;
using System.Text.RegularExpressions;

namespace Coordination.Server.Hosting;

/// <summary>Parsed <c>--auto-compaction-mode</c> and <c>--auto-compaction-retention</c>.</summary>
internal sealed record AutoCompaction(string Mode, TimeSpan Period, long Revisions)
{
    /// <summary>True when auto-compaction is on.</summary>
    public bool Enabled => Mode == "revision" ? Revisions > 0 : Period > TimeSpan.Zero;

    /// <summary>
    /// Parses the retention as etcd does: in periodic mode a bare number means hours and a Go
    /// duration (<c>1h30m</c>, <c>10m</c>, <c>30s</c>) is accepted; in revision mode it is a count.
    /// </summary>
    public static AutoCompaction ParseRetention(string mode, string retention)
    {
        retention = retention.Trim();
        if (retention.Length == 0) return new AutoCompaction(mode, TimeSpan.Zero, 0);
        if (mode == "revision")
        {
            if (!long.TryParse(retention, NumberStyles.Integer, CultureInfo.InvariantCulture, out var revs) || revs < 0)
                throw new ArgumentException($"invalid auto-compaction-retention \"{retention}\" for revision mode");
            return new AutoCompaction(mode, TimeSpan.Zero, revs);
        }
        if (double.TryParse(retention, NumberStyles.Float, CultureInfo.InvariantCulture, out var hours))
            return new AutoCompaction(mode, hours < 0 ? throw Invalid(retention) : TimeSpan.FromHours(hours), 0);
        return new AutoCompaction(mode, ParseGoDuration(retention), 0);
    }

    private static TimeSpan ParseGoDuration(string s)
    {
        var matches = Regex.Matches(s, @"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)");
        if (matches.Count == 0 || string.Concat(matches.Select(m => m.Value)) != s) throw Invalid(s);
        var total = TimeSpan.Zero;
        foreach (Match m in matches)
        {
            var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(n),
                "m" => TimeSpan.FromMinutes(n),
                "s" => TimeSpan.FromSeconds(n),
                "ms" => TimeSpan.FromMilliseconds(n),
                _ => TimeSpan.FromTicks((long)(n / 100)),
            };
        }
        return total;
    }

    private static ArgumentException Invalid(string s) => new($"invalid auto-compaction-retention \"{s}\"");
}
