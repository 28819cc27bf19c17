using System.Globalization;

namespace Coordination.Server.Hosting;

/// <summary>
/// Reads <see cref="ServerOptions"/> from etcd-style flags (<c>--flag value</c> or <c>--flag=value</c>)
/// and <c>ETCD_*</c> environment variables (flags win), and validates them.
/// </summary>
internal static class CommandLine
{
    private static readonly HashSet<string> KnownFlags =
    [
        "name", "data-dir", "listen-client-urls", "advertise-client-urls", "listen-peer-urls",
        "initial-advertise-peer-urls", "initial-cluster", "initial-cluster-state", "initial-cluster-token",
        "snapshot-count", "quota-backend-bytes", "max-request-bytes", "max-txn-ops", "auto-compaction-mode",
        "auto-compaction-retention", "heartbeat-interval", "election-timeout", "restore-from-snapshot", "log-level",
        "experimental-watch-progress-notify-interval", "auth-token", "auth-token-ttl", "strict-reconfig-check",
    ];

    /// <summary>Flags that, as Go's boolean flags, take no separate argument: <c>--flag</c> is true, <c>--flag=false</c> false.</summary>
    private static readonly HashSet<string> BooleanFlags = ["strict-reconfig-check"];

    /// <summary>Parses flags and environment; throws <see cref="ArgumentException"/> with an operator-facing message.</summary>
    public static ServerOptions Parse(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in environment)
        {
            if (!key.StartsWith("ETCD_", StringComparison.Ordinal)) continue;
            var flag = key["ETCD_".Length..].ToLowerInvariant().Replace('_', '-');
            if (KnownFlags.Contains(flag)) values[flag] = value;
        }
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-')) throw new ArgumentException($"unexpected argument '{arg}'");
            var body = arg.TrimStart('-');
            string flag, value;
            var eq = body.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0) { flag = body[..eq]; value = body[(eq + 1)..]; }
            else
            {
                flag = body;
                if (BooleanFlags.Contains(flag))
                {
                    values[flag] = "true";
                    continue;
                }
                if (i + 1 >= args.Count) throw new ArgumentException($"flag needs an argument: --{flag}");
                value = args[++i];
            }
            if (!KnownFlags.Contains(flag)) throw new ArgumentException($"unknown flag: --{flag}");
            values[flag] = value;
        }
        return Build(values);
    }

    private static ServerOptions Build(Dictionary<string, string> v)
    {
        var o = new ServerOptions();
        string? Get(string flag) => v.TryGetValue(flag, out var s) ? s : null;
        if (Get("name") is { } name) o = o with { Name = name };
        if (Get("data-dir") is { } dir) o = o with { DataDir = dir };
        else o = o with { DataDir = "data" };
        if (Get("listen-client-urls") is { } lcu) o = o with { ListenClientUrls = Urls("listen-client-urls", lcu) };
        if (Get("advertise-client-urls") is { } acu) o = o with { AdvertiseClientUrls = Urls("advertise-client-urls", acu) };
        else if (Get("listen-client-urls") is not null) o = o with { AdvertiseClientUrls = o.ListenClientUrls };
        if (Get("listen-peer-urls") is { } lpu) o = o with { ListenPeerUrls = Urls("listen-peer-urls", lpu), ListenPeerUrlsGiven = true };
        if (Get("initial-advertise-peer-urls") is { } iapu) o = o with { InitialAdvertisePeerUrls = Urls("initial-advertise-peer-urls", iapu) };
        if (Get("initial-cluster") is { } ic) o = o with { InitialCluster = Cluster(ic) };
        if (Get("initial-cluster-state") is { } ics)
        {
            if (ics is not ("new" or "existing"))
                throw new ArgumentException($"invalid value \"{ics}\" for flag -initial-cluster-state: valid values are \"new\", \"existing\"");
            o = o with { InitialClusterState = ics };
        }
        if (Get("initial-cluster-token") is { } tok) o = o with { InitialClusterToken = tok };
        if (Get("snapshot-count") is { } sc) o = o with { SnapshotCount = Positive("snapshot-count", sc) };
        if (Get("quota-backend-bytes") is { } q) o = o with { QuotaBackendBytes = NonNegative("quota-backend-bytes", q) };
        if (Get("max-request-bytes") is { } mrb) o = o with { MaxRequestBytes = checked((int)Positive("max-request-bytes", mrb)) };
        if (Get("max-txn-ops") is { } mto) o = o with { MaxTxnOps = checked((int)Positive("max-txn-ops", mto)) };
        if (Get("auto-compaction-mode") is { } acm)
        {
            if (acm is not ("periodic" or "revision"))
                throw new ArgumentException($"unknown auto-compaction-mode {acm}");
            o = o with { AutoCompactionMode = acm };
        }
        if (Get("auto-compaction-retention") is { } acr) o = o with { AutoCompactionRetention = acr };
        if (Get("heartbeat-interval") is { } hb) o = o with { HeartbeatIntervalMs = checked((int)Positive("heartbeat-interval", hb)) };
        if (Get("election-timeout") is { } et) o = o with { ElectionTimeoutMs = checked((int)Positive("election-timeout", et)) };
        if (Get("restore-from-snapshot") is { } rfs) o = o with { RestoreFromSnapshot = rfs };
        if (Get("experimental-watch-progress-notify-interval") is { } wpni)
            o = o with { WatchProgressNotifyInterval = GoDuration.Parse("experimental-watch-progress-notify-interval", wpni) };
        if (Get("auth-token") is { } at)
        {
            // Only simple tokens: etcd's "jwt,pub-key=...,priv-key=..." form is refused rather than ignored.
            if (at != "simple") throw new ArgumentException($"unsupported --auth-token \"{at}\": only \"simple\" tokens are supported");
        }
        if (Get("auth-token-ttl") is { } att) o = o with { AuthTokenTtl = TimeSpan.FromSeconds(Positive("auth-token-ttl", att)) };
        if (Get("log-level") is { } ll) o = o with { LogLevel = ll };
        if (Get("strict-reconfig-check") is { } src)
        {
            // The spellings Go's strconv.ParseBool accepts.
            var strict = src switch
            {
                "1" or "t" or "T" or "true" or "TRUE" or "True" => true,
                "0" or "f" or "F" or "false" or "FALSE" or "False" => false,
                _ => throw new ArgumentException($"invalid boolean value \"{src}\" for -strict-reconfig-check"),
            };
            o = o with { StrictReconfigCheck = strict };
        }
        if (o.InitialCluster.Count == 0)
            o = o with { InitialCluster = [(o.Name, o.InitialAdvertisePeerUrls[0])] };
        if (o.ElectionTimeoutMs < 5 * o.HeartbeatIntervalMs)
            throw new ArgumentException($"--election-timeout[{o.ElectionTimeoutMs}ms] should be at least as 5 times as --heartbeat-interval[{o.HeartbeatIntervalMs}ms]");
        _ = AutoCompaction.ParseRetention(o.AutoCompactionMode, o.AutoCompactionRetention);
        return o;
    }

    private static List<Uri> Urls(string flag, string value)
    {
        var list = new List<Uri>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https") || uri.IsDefaultPort && !part.Contains(":" + uri.Port, StringComparison.Ordinal))
                throw new ArgumentException($"invalid URL \"{part}\" for --{flag}: expected scheme://host:port");
            list.Add(uri);
        }
        if (list.Count == 0) throw new ArgumentException($"--{flag} must not be empty");
        return list;
    }

    private static List<(string, Uri)> Cluster(string value)
    {
        var list = new List<(string, Uri)>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw new ArgumentException($"--initial-cluster: expected name=URL, got \"{part}\"");
            list.Add((part[..eq], Urls("initial-cluster", part[(eq + 1)..])[0]));
        }
        return list;
    }

    private static long Positive(string flag, string s)
    {
        var n = NonNegative(flag, s);
        if (n <= 0) throw new ArgumentException($"--{flag} must be positive, got {s}");
        return n;
    }

    private static long NonNegative(string flag, string s)
    {
        if (!long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < 0)
            throw new ArgumentException($"invalid value \"{s}\" for flag --{flag}: parse error");
        return n;
    }
}
