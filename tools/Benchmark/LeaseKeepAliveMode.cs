using System.Collections.Concurrent;
using System.Diagnostics;
using Etcdserverpb;
using Grpc.Core;

namespace Coordination.Benchmark;

/// <summary>
/// <c>lease-keepalive</c>: grants <c>--leases</c> leases (TTL 600 s), then renews them round-robin over one
/// LeaseKeepAlive stream with up to <c>--window</c> renewals in flight, for <c>--total</c> renewals or
/// <c>--duration</c>. The rate is renewals answered per second; the latency is from a request's send to its answer
/// (answers come in request order). An answer with TTL ≤ 0 (lease not renewed) counts as an error.
/// </summary>
internal static class LeaseKeepAliveMode
{
    private const long LeaseTtlSeconds = 600;

    public static async Task<int> RunAsync(Options o, ChannelPool pool, CancellationToken cancellation)
    {
        Console.Out.WriteLine(FormattableString.Invariant(
            $"lease-keepalive: {o.Leases} leases renewed over 1 stream, window {o.Window}; {(o.Total == long.MaxValue ? "" : $"{o.Total} renewals")}{(o.DurationSeconds is { } d ? $" at most {d} s" : "")} on {string.Join(',', o.Endpoints)}"));
        var ids = await GrantAsync(o, pool, cancellation).ConfigureAwait(false);

        var client = new Lease.LeaseClient(pool.ForClient(0));
        using var streamCts = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var call = client.LeaseKeepAlive(cancellationToken: streamCts.Token);
        using var window = new SemaphoreSlim(o.Window);
        var sent = new ConcurrentQueue<long>();
        var latency = new LatencyRecorder(o.Total);
        var errors = new ErrorLog();
        long answered = 0;

        var start = Stopwatch.GetTimestamp();
        var stopAt = o.DurationSeconds is { } seconds ? start + (long)(seconds * Stopwatch.Frequency) : long.MaxValue;
        var reader = Task.Run(async () =>
        {
            while (await call.ResponseStream.MoveNext(streamCts.Token).ConfigureAwait(false))
            {
                var now = Stopwatch.GetTimestamp();
                sent.TryDequeue(out var at);
                if (call.ResponseStream.Current.TTL <= 0)
                {
                    errors.Add(new InvalidOperationException($"lease {call.ResponseStream.Current.ID:x} not renewed (TTL {call.ResponseStream.Current.TTL})"));
                }
                else
                {
                    latency.Record(now - at);
                }

                Interlocked.Increment(ref answered);
                window.Release();
            }
        }, CancellationToken.None);

        long issued = 0;
        var interrupted = false;
        try
        {
            for (; issued < o.Total && Stopwatch.GetTimestamp() < stopAt; issued++)
            {
                await window.WaitAsync(cancellation).ConfigureAwait(false);
                sent.Enqueue(Stopwatch.GetTimestamp());
                await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = ids[issued % ids.Length] }, cancellation).ConfigureAwait(false);
            }

            // Every renewal sent gets its answer before the stream is closed.
            for (var i = 0; i < o.Window; i++)
            {
                await window.WaitAsync(cancellation).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            interrupted = true;
        }

        var elapsed = (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency;
        await streamCts.CancelAsync().ConfigureAwait(false);
        try
        {
            await reader.ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException || (e is RpcException r && r.StatusCode == StatusCode.Cancelled))
        {
        }

        var total = Interlocked.Read(ref answered);
        var report = new Report("lease-keepalive", o);
        report.AddLine(FormattableString.Invariant($"Leases:      {ids.Length}, window {o.Window}, one stream"));
        report.AddField("leases", ids.Length);
        report.AddField("window", o.Window);
        report.Print(LatencySummary.FromTicks(latency.ToArray()), total, errors.Count, total / elapsed, elapsed, interrupted);
        return latency.Count == 0 ? 1 : interrupted ? 130 : 0;
    }

    /// <summary>Grants the leases from <c>--clients</c> concurrent granters.</summary>
    private static async Task<long[]> GrantAsync(Options o, ChannelPool pool, CancellationToken cancellation)
    {
        var ids = new long[o.Leases];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Math.Max(1, o.Clients)).Select(async c =>
        {
            var client = new Lease.LeaseClient(pool.ForClient(c));
            for (var i = Interlocked.Increment(ref next); i < ids.Length; i = Interlocked.Increment(ref next))
            {
                ids[i] = (await client.LeaseGrantAsync(new LeaseGrantRequest { TTL = LeaseTtlSeconds }, cancellationToken: cancellation).ConfigureAwait(false)).ID;
            }
        })).ConfigureAwait(false);
        return ids;
    }
}
