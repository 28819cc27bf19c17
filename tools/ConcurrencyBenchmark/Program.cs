using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Coordination.Client;
using Coordination.Concurrency;

// Usage:
//   ConcurrencyBenchmark --endpoints URL lock --contenders N [--names one|separate] [--duration S] [--clients C]
//   (--pin: client i talks only to endpoint i mod count, instead of every client to all endpoints)
//   ConcurrencyBenchmark --endpoints URL stm --isolation LEVEL [--workers N] [--accounts A] [--duration S]
// The last line of stdout is one JSON object with the results.
var options = Args.Parse(args);
var clients = Enumerable.Range(0, options.Clients).Select(i => CoordinationClient.Create(new CoordinationClientOptions
{
    Endpoints = options.Pin ? [options.Endpoints[i % options.Endpoints.Count]] : [.. options.Endpoints],
    CallTimeout = TimeSpan.FromSeconds(30),
})).ToArray();
try
{
    var runId = Guid.NewGuid().ToString("N")[..8];
    var result = options.Mode switch
    {
        "lock" => await LockRun.RunAsync(clients, options, runId),
        "stm" => await StmRun.RunAsync(clients, options, runId),
        _ => throw new ArgumentException($"unknown mode '{options.Mode}' (lock or stm)"),
    };
    Console.WriteLine(result.Describe());
    Console.WriteLine(JsonSerializer.Serialize(result.ToJson()));
}
finally
{
    foreach (var client in clients)
    {
        await client.DisposeAsync();
    }
}

internal sealed record Args(string Mode, IReadOnlyList<string> Endpoints, int Contenders, bool SeparateNames, TimeSpan Duration, int Clients, StmIsolation Isolation, int Accounts, bool Pin)
{
    public static Args Parse(string[] args)
    {
        string? mode = null;
        var endpoints = new List<string> { "http://127.0.0.1:2379" };
        int contenders = 1, clients = 4, accounts = 100;
        var separate = false;
        var pin = false;
        var duration = TimeSpan.FromSeconds(5);
        var isolation = StmIsolation.SerializableSnapshot;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => args[++i];
            switch (args[i])
            {
                case "--endpoints": endpoints = [.. Next().Split(',')]; break;
                case "--contenders": case "--workers": contenders = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--names": separate = Next() == "separate"; break;
                case "--duration": duration = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--clients": clients = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--isolation": isolation = Enum.Parse<StmIsolation>(Next(), ignoreCase: true); break;
                case "--pin": pin = true; break;
                case "--accounts": accounts = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: mode = args[i]; break;
            }
        }

        return new Args(mode ?? "lock", endpoints, contenders, separate, duration, Math.Max(1, Math.Min(clients, contenders)), isolation, accounts, pin);
    }
}

internal sealed record RunResult(string Mode, string Detail, int Workers, long Operations, double Seconds, double[] LatenciesMs, long Errors, long Attempts)
{
    public double PerSecond => Operations / Seconds;

    public double Percentile(double p)
    {
        if (LatenciesMs.Length == 0)
        {
            return 0;
        }

        var sorted = LatenciesMs.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }

    public string Describe() =>
        $"{Mode} {Detail} workers={Workers}: {Operations} ops in {Seconds:F1} s = {PerSecond:F1}/s, p50 {Percentile(0.5):F2} ms, p99 {Percentile(0.99):F2} ms, errors {Errors}"
        + (Mode == "stm" ? $", attempts/commit {(double)Attempts / Math.Max(1, Operations):F2}" : string.Empty);

    public object ToJson() => new
    {
        mode = Mode,
        detail = Detail,
        workers = Workers,
        ops = Operations,
        seconds = Math.Round(Seconds, 2),
        per_second = Math.Round(PerSecond, 1),
        p50_ms = Math.Round(Percentile(0.5), 3),
        p99_ms = Math.Round(Percentile(0.99), 3),
        errors = Errors,
        attempts_per_op = Math.Round((double)Attempts / Math.Max(1, Operations), 3),
    };
}

/// <summary>Each contender has its own session and repeats lock + release, on one shared name or on its own name.</summary>
internal static class LockRun
{
    public static async Task<RunResult> RunAsync(ICoordinationClient[] clients, Args options, string runId)
    {
        var sessions = new ICoordinationSession[options.Contenders];
        var mutexes = new ICoordinationMutex[options.Contenders];
        for (var i = 0; i < options.Contenders; i++)
        {
            var recipes = CoordinationConcurrency.Create(clients[i % clients.Length]);
            sessions[i] = await recipes.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(30) });
            mutexes[i] = recipes.CreateMutex(sessions[i], options.SeparateNames ? $"/bench/lock/{runId}/{i}" : $"/bench/lock/{runId}");
        }

        var latencies = new List<double>[options.Contenders];
        long errors = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Contenders).Select(i => Task.Run(async () =>
        {
            latencies[i] = [];
            while (clock.Elapsed < options.Duration)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    var handle = await mutexes[i].LockAsync();
                    await handle.ReleaseAsync();
                    latencies[i].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
                catch (Exception e) when (e is EtcdException or CoordinationConcurrencyException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })));
        var seconds = clock.Elapsed.TotalSeconds;
        foreach (var session in sessions)
        {
            await session.DisposeAsync();
        }

        var all = latencies.SelectMany(l => l).ToArray();
        return new RunResult("lock", options.SeparateNames ? "separate-names" : "one-name", options.Contenders, all.Length, seconds, all, errors, all.Length);
    }
}

/// <summary>Workers move random amounts between random accounts with STM transactions.</summary>
internal static class StmRun
{
    public static async Task<RunResult> RunAsync(ICoordinationClient[] clients, Args options, string runId)
    {
        string Account(int i) => $"/bench/stm/{runId}/{i}";
        for (var i = 0; i < options.Accounts; i++)
        {
            await clients[0].Kv.PutAsync(Account(i), "1000");
        }

        var latencies = new List<double>[options.Contenders];
        long errors = 0, attempts = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, options.Contenders).Select(w => Task.Run(async () =>
        {
            latencies[w] = [];
            var recipes = CoordinationConcurrency.Create(clients[w % clients.Length]);
            var random = new Random(w);
            var stmOptions = new StmOptions { Isolation = options.Isolation, MaxAttempts = 1000, JitterSeed = w };
            while (clock.Elapsed < options.Duration)
            {
                var from = random.Next(options.Accounts);
                var to = (from + 1 + random.Next(options.Accounts - 1)) % options.Accounts;
                var start = Stopwatch.GetTimestamp();
                try
                {
                    var result = await recipes.RunStmAsync(async (stm, ct) =>
                    {
                        var a = int.Parse(await stm.GetAsync(Account(from), ct) ?? "0", CultureInfo.InvariantCulture);
                        var b = int.Parse(await stm.GetAsync(Account(to), ct) ?? "0", CultureInfo.InvariantCulture);
                        stm.Put(Account(from), (a - 1).ToString(CultureInfo.InvariantCulture));
                        stm.Put(Account(to), (b + 1).ToString(CultureInfo.InvariantCulture));
                    }, stmOptions);
                    latencies[w].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    Interlocked.Add(ref attempts, result.Attempts);
                }
                catch (Exception e) when (e is EtcdException or CoordinationConcurrencyException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })));
        var seconds = clock.Elapsed.TotalSeconds;
        long total = 0;
        foreach (var kv in (await clients[0].Kv.GetPrefixAsync($"/bench/stm/{runId}/")).Kvs)
        {
            total += long.Parse(kv.ValueString, CultureInfo.InvariantCulture);
        }

        var all = latencies.SelectMany(l => l).ToArray();
        var detail = $"{options.Isolation} accounts={options.Accounts} total-after={total} (expected {options.Accounts * 1000})";
        return new RunResult("stm", detail, options.Contenders, all.Length, seconds, all, errors, attempts);
    }
}
