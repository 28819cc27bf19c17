using System.Globalization;

namespace Coordination.Benchmark;

/// <summary>Command-line options: a mode, its positional arguments, and etcd-benchmark-style flags.</summary>
internal sealed class Options
{
    public const string UsageText = """
        usage: Benchmark <mode> [args] [flags]

        modes:
          put                   write keys           --key-size 8 --val-size 8 --sequential-keys --key-space-size 1
          range <key> [end]     read a key or range  --consistency l|s (linearizable default, serializable)
          txn-put               a txn with one put   (same key/value flags as put)
          watch                 watchers + paced puts --watchers 100 --streams 10 --put-rate 100 --watched-keys 1
                                --total is the number of puts (default 1000 in this mode)
          lease-keepalive       renew --leases 1000 leases round-robin over ONE keep-alive stream,
                                --window 1000 renewals in flight; --total renewals (or --duration)

        common flags:
          --endpoints URLS      comma list, default http://127.0.0.1:2379 (http:// = h2c)
          --conns N             gRPC channels (default 1), spread round-robin over the endpoints
          --clients N           concurrent requests in flight (default 1), spread round-robin over the channels
          --total N             requests (default 10000)
          --duration SECONDS    run for this long instead (with --total too: whichever comes first)
          --request-timeout S   per-request deadline in seconds (default 30)
          --latency-file PATH   put, range, txn-put: also write every latency (ms, ascending, one per
                                line) to PATH, so runs can be pooled (sort -m) into one distribution
          --api stub|sdk        put and range through the raw generated stub (default) or the
                                Coordination.Client SDK (one SDK client per --conns), to measure its overhead
        Flags accept both --flag value and --flag=value, before or after the mode.
        """;

    private Options()
    {
    }

    public string Mode { get; private set; } = "";

    public string? RangeKey { get; private set; }

    public string? RangeEnd { get; private set; }

    public IReadOnlyList<string> Endpoints { get; private set; } = ["http://127.0.0.1:2379"];

    public int Conns { get; private set; } = 1;

    /// <summary>"stub" (raw generated gRPC stub) or "sdk" (Coordination.Client).</summary>
    public string Api { get; private set; } = "stub";

    public int Clients { get; private set; } = 1;

    /// <summary>Requests to issue; <see cref="long.MaxValue"/> when only a duration bounds the run.</summary>
    public long Total { get; private set; } = 10_000;

    public double? DurationSeconds { get; private set; }

    public double RequestTimeoutSeconds { get; private set; } = 30;

    /// <summary>Where put, range and txn-put also write every latency, ascending, in ms (null: nowhere).</summary>
    public string? LatencyFile { get; private set; }

    public int KeySize { get; private set; } = 8;

    public int ValSize { get; private set; } = 8;

    public bool SequentialKeys { get; private set; }

    public long KeySpaceSize { get; private set; } = 1;

    public bool Serializable { get; private set; }

    public int Watchers { get; private set; } = 100;

    public int Streams { get; private set; } = 10;

    public double PutRate { get; private set; } = 100;

    public int WatchedKeys { get; private set; } = 1;

    public int Leases { get; private set; } = 1000;

    public int Window { get; private set; } = 1000;

    public bool Help { get; private set; }

    /// <summary>Parses <paramref name="args"/>; throws <see cref="FormatException"/> with a readable message.</summary>
    public static Options Parse(string[] args)
    {
        var o = new Options();
        var positionals = new List<string>();
        var totalSet = false;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                o.Help = true;
                return o;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                positionals.Add(arg);
                continue;
            }

            var name = arg[2..];
            string? inline = null;
            var eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                inline = name[(eq + 1)..];
                name = name[..eq];
            }

            if (name == "sequential-keys")
            {
                o.SequentialKeys = inline is null || ParseBool(name, inline);
                continue;
            }

            var value = inline ?? (i + 1 < args.Length ? args[++i] : throw new FormatException($"--{name} needs a value"));
            switch (name)
            {
                case "endpoints":
                    o.Endpoints = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    if (o.Endpoints.Count == 0)
                    {
                        throw new FormatException("--endpoints is empty");
                    }

                    break;
                case "conns": o.Conns = ParseInt(name, value, 1); break;
                case "api":
                    o.Api = value is "stub" or "sdk" ? value : throw new FormatException("--api must be stub or sdk");
                    break;
                case "clients": o.Clients = ParseInt(name, value, 1); break;
                case "total": o.Total = ParseLong(name, value, 1); totalSet = true; break;
                case "duration": o.DurationSeconds = ParseDouble(name, value); break;
                case "request-timeout": o.RequestTimeoutSeconds = ParseDouble(name, value); break;
                case "latency-file": o.LatencyFile = value; break;
                case "key-size": o.KeySize = ParseInt(name, value, 1); break;
                case "val-size": o.ValSize = ParseInt(name, value, 0); break;
                case "key-space-size": o.KeySpaceSize = ParseLong(name, value, 1); break;
                case "consistency":
                    o.Serializable = value switch
                    {
                        "l" => false,
                        "s" => true,
                        _ => throw new FormatException("--consistency must be l or s"),
                    };
                    break;
                case "watchers": o.Watchers = ParseInt(name, value, 1); break;
                case "streams": o.Streams = ParseInt(name, value, 1); break;
                case "put-rate": o.PutRate = ParseDouble(name, value); break;
                case "watched-keys": o.WatchedKeys = ParseInt(name, value, 1); break;
                case "leases": o.Leases = ParseInt(name, value, 1); break;
                case "window": o.Window = ParseInt(name, value, 1); break;
                default: throw new FormatException($"unknown flag --{name}");
            }
        }

        if (positionals.Count == 0)
        {
            throw new FormatException("missing mode");
        }

        o.Mode = positionals[0];
        var expectedPositionals = o.Mode switch
        {
            "put" or "txn-put" or "watch" or "lease-keepalive" => (Min: 1, Max: 1),
            "range" => (Min: 2, Max: 3),
            _ => throw new FormatException($"unknown mode '{o.Mode}'"),
        };
        if (positionals.Count < expectedPositionals.Min || positionals.Count > expectedPositionals.Max)
        {
            throw new FormatException(o.Mode == "range"
                ? "range needs <key> [end]"
                : $"mode {o.Mode} takes no arguments, got: {string.Join(' ', positionals.Skip(1))}");
        }

        if (o.Mode == "range")
        {
            o.RangeKey = positionals[1];
            o.RangeEnd = positionals.Count > 2 ? positionals[2] : null;
        }

        if (o.Mode == "watch")
        {
            if (o.Watchers < o.Streams)
            {
                o.Streams = o.Watchers;
            }

            if (!totalSet)
            {
                o.Total = o.DurationSeconds is { } d ? Math.Max(1, (long)Math.Ceiling(d * o.PutRate)) : 1000;
            }
        }
        else if (o.DurationSeconds is not null && !totalSet)
        {
            o.Total = long.MaxValue;
        }

        return o;
    }

    private static int ParseInt(string name, string value, int min) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v
            : throw new FormatException($"--{name} must be an integer >= {min}, got '{value}'");

    private static long ParseLong(string name, string value, long min) =>
        long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v
            : throw new FormatException($"--{name} must be an integer >= {min}, got '{value}'");

    private static double ParseDouble(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && double.IsFinite(v)
            ? v
            : throw new FormatException($"--{name} must be a positive number, got '{value}'");

    private static bool ParseBool(string name, string value) =>
        bool.TryParse(value, out var v) ? v : throw new FormatException($"--{name} must be true or false, got '{value}'");
}
