using System.Diagnostics;
using System.Globalization;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Coordination.Benchmark;

/// <summary>
/// Runs <c>--clients</c> loops, each with one request in flight, until <c>--total</c> requests were issued or
/// <c>--duration</c> elapsed, recording every latency. Used by put, range and txn-put.
/// </summary>
internal sealed class ClosedLoopRunner
{
    private readonly Options _options;
    private readonly CancellationToken _cancellation;
    private readonly LatencyRecorder _recorder;

    /// <summary>Per endpoint, when there are several: the same latencies split by the member the client talks to.</summary>
    private readonly LatencyRecorder[] _byEndpoint;
    private readonly ErrorLog _errors = new();
    private readonly TimeSpan _requestTimeout;
    private long _issued;
    private long _deadlineTicks = long.MaxValue;

    private ClosedLoopRunner(Options options, CancellationToken cancellation)
    {
        _options = options;
        _cancellation = cancellation;
        _recorder = new LatencyRecorder(options.Total);
        var endpoints = Math.Min(options.Endpoints.Count, options.Conns);
        _byEndpoint = new LatencyRecorder[endpoints > 1 ? endpoints : 0];
        for (var e = 0; e < _byEndpoint.Length; e++)
        {
            _byEndpoint[e] = new LatencyRecorder(options.Total == long.MaxValue ? long.MaxValue : options.Total / endpoints + 1);
        }
        _requestTimeout = TimeSpan.FromSeconds(options.RequestTimeoutSeconds);
    }

    /// <summary>Runs the mode and prints its report; returns the process exit code.</summary>
    public static async Task<int> RunAsync(
        Options options, ChannelPool pool, Func<GrpcChannel, IRequestOperation> createClient, string description, CancellationToken cancellation)
    {
        var runner = new ClosedLoopRunner(options, cancellation);
        var clients = new IRequestOperation[options.Clients];
        for (var i = 0; i < clients.Length; i++)
        {
            clients[i] = createClient(pool.ForClient(i));
        }

        Console.Out.WriteLine(FormattableString.Invariant(
            $"{options.Mode}: {description}; {(options.Total == long.MaxValue ? "unbounded" : options.Total.ToString(System.Globalization.CultureInfo.InvariantCulture))} requests{(options.DurationSeconds is { } d ? $", at most {d} s" : "")}, {options.Clients} clients over {options.Conns} conns to {string.Join(',', options.Endpoints)}"));
        await WarmUpAsync(pool, options.Clients, cancellation).ConfigureAwait(false);

        var start = Stopwatch.GetTimestamp();
        if (options.DurationSeconds is { } seconds)
        {
            runner._deadlineTicks = start + (long)(seconds * Stopwatch.Frequency);
        }

        var loops = new Task[clients.Length];
        for (var i = 0; i < clients.Length; i++)
        {
            var client = clients[i];
            var byEndpoint = runner._byEndpoint.Length == 0 ? null : runner._byEndpoint[pool.EndpointOfClient(i)];
            loops[i] = Task.Run(() => runner.ClientLoopAsync(client, byEndpoint), CancellationToken.None);
        }

        await Task.WhenAll(loops).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;

        var ticks = runner._recorder.ToArray();
        var latency = LatencySummary.FromTicks(ticks);
        if (options.LatencyFile is { } path)
        {
            // FromTicks sorted the array: the file is ascending, ready for a merge with other runs.
            await File.WriteAllLinesAsync(path, ticks.Select(t => LatencyRecorder.TicksToMs(t).ToString("F3", CultureInfo.InvariantCulture)), CancellationToken.None).ConfigureAwait(false);
        }

        var errors = runner._errors.Count;
        var report = new Report(options.Mode, options);
        for (var e = 0; e < runner._byEndpoint.Length; e++)
        {
            var part = LatencySummary.FromTicks(runner._byEndpoint[e].ToArray());
            report.AddLine(FormattableString.Invariant($"Endpoint {e} ({options.Endpoints[e]}): {part.Count} ok, p50 {part.P50Ms:F3}  p99 {part.P99Ms:F3}  max {part.MaxMs:F3} ms"));
            report.AddField(FormattableString.Invariant($"ep{e}_p50_ms"), part.P50Ms);
            report.AddField(FormattableString.Invariant($"ep{e}_p99_ms"), part.P99Ms);
        }

        report.Print(latency, latency.Count + errors, errors, latency.Count / elapsed, elapsed, cancellation.IsCancellationRequested);
        return cancellation.IsCancellationRequested ? 130 : latency.Count == 0 ? 1 : 0;
    }

    /// <summary>
    /// One serializable Range per client, not recorded: opens the HTTP/2 connections and JIT-compiles the call path
    /// so the first measured requests do not pay for them. Failures are reported, not fatal.
    /// </summary>
    private static async Task WarmUpAsync(ChannelPool pool, int clients, CancellationToken cancellation)
    {
        var request = new RangeRequest { Key = ByteString.CopyFromUtf8("benchmark-warm-up"), Serializable = true, CountOnly = true };
        var failures = 0;
        string? first = null;
        var tasks = new Task[clients];
        for (var i = 0; i < clients; i++)
        {
            var kv = new KV.KVClient(pool.ForClient(i));
            tasks[i] = Task.Run(
                async () =>
                {
                    try
                    {
                        await kv.RangeAsync(request, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: cancellation);
                    }
                    catch (Exception ex)
                    {
                        if (Interlocked.Increment(ref failures) == 1)
                        {
                            first = ErrorLog.Describe(ex);
                        }
                    }
                },
                CancellationToken.None);
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
        if (failures > 0)
        {
            Console.Error.WriteLine($"warm-up: {failures} of {clients} clients failed, first: {first}");
        }
    }

    private async Task ClientLoopAsync(IRequestOperation client, LatencyRecorder? byEndpoint)
    {
        while (!_cancellation.IsCancellationRequested)
        {
            var sequence = Interlocked.Increment(ref _issued) - 1;
            if (sequence >= _options.Total)
            {
                break;
            }

            var start = Stopwatch.GetTimestamp();
            if (start >= _deadlineTicks)
            {
                break;
            }

            try
            {
                await client.ExecuteAsync(sequence, DateTime.UtcNow + _requestTimeout, _cancellation).ConfigureAwait(false);
                var ticks = Stopwatch.GetTimestamp() - start;
                _recorder.Record(ticks);
                byEndpoint?.Record(ticks);
            }
            catch (Exception ex) when (ErrorLog.IsOwnCancellation(ex, _cancellation))
            {
                break;
            }
            catch (Exception ex)
            {
                _errors.Add(ex);

                // A dead target fails instantly; do not spin a core on it.
                await Task.Delay(1, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }
}
