using System.Globalization;

namespace Coordination.Server.Hosting;

/// <summary>Parses duration flags written as Go's time.ParseDuration accepts them ("10m", "1m30s", "250ms").</summary>
internal static class GoDuration
{
    private static readonly (string Unit, double Ticks)[] Units =
    [
        ("ns", TimeSpan.TicksPerMillisecond / 1_000_000.0),
        ("us", TimeSpan.TicksPerMillisecond / 1_000.0),
        ("µs", TimeSpan.TicksPerMillisecond / 1_000.0),
        ("ms", TimeSpan.TicksPerMillisecond),
        ("s", TimeSpan.TicksPerSecond),
        ("m", TimeSpan.TicksPerMinute),
        ("h", TimeSpan.TicksPerHour),
    ];

    /// <summary>A positive duration; throws <see cref="ArgumentException"/> naming the flag otherwise.</summary>
    public static TimeSpan Parse(string flag, string text)
    {
        double ticks = 0;
        int i = 0;
        if (text.Length == 0) throw Invalid(flag, text);
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.')) i++;
            if (i == start || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out double amount))
                throw Invalid(flag, text);
            int unitStart = i;
            while (i < text.Length && !char.IsAsciiDigit(text[i]) && text[i] != '.') i++;
            string unit = text[unitStart..i];
            int match = Array.FindIndex(Units, u => u.Unit == unit);
            if (match < 0) throw Invalid(flag, text);
            ticks += amount * Units[match].Ticks;
        }

        if (ticks < 1) throw new ArgumentException($"--{flag} must be positive, got {text}");
        return TimeSpan.FromTicks((long)ticks);
    }

    private static ArgumentException Invalid(string flag, string text) =>
        new($"invalid value \"{text}\" for flag --{flag}: time: invalid duration \"{text}\"");
}
