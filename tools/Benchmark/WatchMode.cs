using System.Buffers.Binary;
using System.Diagnostics;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Mvccpb;

namespace Coordination.Benchmark;

/// <summary>
/// <c>watch</c>: opens <c>--watchers</c> watchers over <c>--streams</c> Watch streams (watcher <c>w</c> on stream
/// <c>w mod streams</c>, key <c>w mod watched-keys</c>), then issues <c>--total</c> puts at <c>--put-rate</c> per second
/// from <c>--clients</c> writers, cycling over the watched keys. Each put's value carries its sequence number, so
/// every received event is matched to its put. The main latency is from the put's acknowledgement to the event's
/// receipt (0 when the event came first); the delay from the put's send is reported too.
/// </summary>
internal sealed class WatchMode
{
    private static readonly TimeSpan CreateTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    private readonly Options _options;
    private readonly ChannelPool _pool;
    private readonly CancellationToken _cancellation;
    private readonly KeySpace _keys;
    private readonly int[] _watchersPerKey;
    private readonly long[] _sentTicks;
    private readonly long[] _ackTicks;
    private readonly LatencyRecorder _afterAck;
    private readonly LatencyRecorder _afterSend;
    private readonly LatencyRecorder _putLatency;
    private readonly ErrorLog _errors = new();
    private long _expectedEvents;
    private long _receivedEvents;
    private long _beforeAck;
    private long _nextPut;
    private long _putStartTicks;
    private long _lastEventTicks;

    private WatchMode(Options options, ChannelPool pool, CancellationToken cancellation)
    {
        if (options.Total > 1L << 27)
        {
            throw new FormatException("watch: --total (puts) must be at most 134217728");
        }

        _options = options;
        _pool = pool;
        _cancellation = cancellation;
        _keys = new KeySpace(options.KeySize, options.WatchedKeys, sequential: true, options.WatchedKeys);
        _watchersPerKey = new int[options.WatchedKeys];
        for (var w = 0; w < options.Watchers; w++)
        {
            _watchersPerKey[w % options.WatchedKeys]++;
        }

        for (long p = 0; p < options.Total; p++)
        {
            _expectedEvents += _watchersPerKey[p % options.WatchedKeys];
        }

        _sentTicks = new long[options.Total];
        _ackTicks = new long[options.Total];
        var preallocate = Math.Min(_expectedEvents, 1L << 22);
        _afterAck = new LatencyRecorder(preallocate);
        _afterSend = new LatencyRecorder(preallocate);
        _putLatency = new LatencyRecorder(options.Total);
    }

    public static Task<int> RunAsync(Options options, ChannelPool pool, CancellationToken cancellation) =>
        new WatchMode(options, pool, cancellation).RunAsync();

    private async Task<int> RunAsync()
    {
        var o = _options;
        Console.Out.WriteLine(FormattableString.Invariant(
            $"watch: {o.Watchers} watchers on {o.WatchedKeys} key(s) over {o.Streams} streams; {o.Total} puts at {o.PutRate}/s from {o.Clients} clients; {o.Conns} conns to {string.Join(',', o.Endpoints)}"));

        using var streamsCts = CancellationTokenSource.CreateLinkedTokenSource(_cancellation);
        var calls = new AsyncDuplexStreamingCall<WatchRequest, WatchResponse>[o.Streams];
        var readers = new Task[o.Streams];
        var creations = new Task[o.Streams];
        var createStart = Stopwatch.GetTimestamp();
        for (var s = 0; s < o.Streams; s++)
        {
            calls[s] = new Watch.WatchClient(_pool.ForClient(s)).Watch(cancellationToken: streamsCts.Token);
            var count = o.Watchers / o.Streams + (s < o.Watchers % o.Streams ? 1 : 0);
            var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            readers[s] = ReadAsync(calls[s], count, created, streamsCts.Token);
            creations[s] = CreateWatchersAsync(calls[s], s, count, created.Task);
        }

        var createSeconds = double.NaN;
        var interrupted = false;
        try
        {
            await Task.WhenAll(creations).WaitAsync(CreateTimeout, _cancellation).ConfigureAwait(false);
            createSeconds = Stopwatch.GetElapsedTime(createStart).TotalSeconds;
            Console.Out.WriteLine(FormattableString.Invariant(
                $"created {o.Watchers} watchers in {createSeconds:F3} s ({o.Watchers / createSeconds:F1} watches/s)"));
            await PutAndDrainAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_cancellation.IsCancellationRequested)
        {
            interrupted = true;
        }
        catch (Exception ex)
        {
            _errors.Add(ex, "watch creation");
        }

        interrupted |= _cancellation.IsCancellationRequested;
        var putSeconds = _putStartTicks == 0 ? 0 : LatencyRecorder.TicksToMs(Volatile.Read(ref _lastEventTicks) - _putStartTicks) / 1000.0;
        await streamsCts.CancelAsync().ConfigureAwait(false);
        foreach (var reader in readers)
        {
            try
            {
                await reader.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The reader already counted a failure; cancellation at the end is expected.
            }
        }

        foreach (var call in calls)
        {
            call.Dispose();
        }

        var received = Volatile.Read(ref _receivedEvents);
        var afterSend = LatencySummary.FromTicks(_afterSend.ToArray());
        var puts = LatencySummary.FromTicks(_putLatency.ToArray());
        var report = new Report("watch", o);
        report.AddLine(FormattableString.Invariant($"Watchers:    {o.Watchers} on {o.WatchedKeys} key(s) over {o.Streams} streams, created at {o.Watchers / createSeconds:F1}/s"));
        report.AddLine(FormattableString.Invariant($"Puts:        {puts.Count} ok of {o.Total}, put latency ms: {puts.Describe()}"));
        report.AddLine(FormattableString.Invariant($"Events:      {received} received of {Volatile.Read(ref _expectedEvents)} expected, {Volatile.Read(ref _beforeAck)} before their put's ack"));
        report.AddLine($"After send ms: {afterSend.Describe()}");
        report.AddLine("Below: event delay after the put's ack (rate = events/s).");
        report.AddField("watchers", o.Watchers);
        report.AddField("streams", o.Streams);
        report.AddField("puts", puts.Count);
        report.AddField("expected_events", Volatile.Read(ref _expectedEvents));
        report.AddField("before_ack", Volatile.Read(ref _beforeAck));
        report.AddField("send_p50_ms", afterSend.P50Ms);
        report.AddField("send_p99_ms", afterSend.P99Ms);
        report.AddField("send_p999_ms", afterSend.P999Ms);
        report.AddField("put_p50_ms", puts.P50Ms);
        report.AddField("put_p99_ms", puts.P99Ms);
        report.AddField("create_per_s", double.IsNaN(createSeconds) ? 0 : o.Watchers / createSeconds);
        var afterAck = LatencySummary.FromTicks(_afterAck.ToArray());
        report.Print(afterAck, received, _errors.Count, putSeconds > 0 ? received / putSeconds : 0, putSeconds, interrupted);
        return interrupted ? 130 : received == 0 ? 1 : 0;
    }

    private async Task CreateWatchersAsync(
        AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, int stream, int count, Task allCreated)
    {
        for (var n = 0; n < count; n++)
        {
            var watcher = stream + (long)n * _options.Streams;
            var request = new WatchRequest { CreateRequest = new WatchCreateRequest { Key = _keys.KeyFor(watcher % _options.WatchedKeys) } };
            await call.RequestStream.WriteAsync(request, _cancellation).ConfigureAwait(false);
        }

        await allCreated.ConfigureAwait(false);
    }

    private async Task ReadAsync(
        AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, int watchers, TaskCompletionSource allCreated, CancellationToken cancellation)
    {
        var created = 0;
        try
        {
            while (await call.ResponseStream.MoveNext(cancellation).ConfigureAwait(false))
            {
                var response = call.ResponseStream.Current;
                if (response.Created && ++created == watchers)
                {
                    allCreated.TrySetResult();
                }

                if (response.Canceled)
                {
                    _errors.Add(new InvalidOperationException($"watch {response.WatchId} canceled: {response.CancelReason}"), "watch");
                }

                if (response.Events.Count > 0)
                {
                    OnEvents(response);
                }
            }

            allCreated.TrySetException(new InvalidOperationException("watch stream ended before all watchers were created"));
        }
        catch (Exception ex) when (ErrorLog.IsOwnCancellation(ex, cancellation))
        {
            allCreated.TrySetCanceled(cancellation);
        }
        catch (Exception ex)
        {
            _errors.Add(ex, "watch stream");
            allCreated.TrySetException(ex);
        }
    }

    private void OnEvents(WatchResponse response)
    {
        var now = Stopwatch.GetTimestamp();
        foreach (var ev in response.Events)
        {
            var value = ev.Kv?.Value;
            if (ev.Type != Event.Types.EventType.Put || value is null || value.Length < 8)
            {
                continue;
            }

            var sequence = BinaryPrimitives.ReadInt64BigEndian(value.Span);
            if ((ulong)sequence >= (ulong)_sentTicks.Length)
            {
                continue;
            }

            _afterSend.Record(now - Volatile.Read(ref _sentTicks[sequence]));
            var ack = Volatile.Read(ref _ackTicks[sequence]);
            if (ack == 0 || ack >= now)
            {
                Interlocked.Increment(ref _beforeAck);
                _afterAck.Record(0);
            }
            else
            {
                _afterAck.Record(now - ack);
            }

            Interlocked.Increment(ref _receivedEvents);
        }

        Volatile.Write(ref _lastEventTicks, now);
    }

    private async Task PutAndDrainAsync()
    {
        _putStartTicks = Stopwatch.GetTimestamp();
        Volatile.Write(ref _lastEventTicks, _putStartTicks);
        var writers = new Task[_options.Clients];
        for (var i = 0; i < writers.Length; i++)
        {
            var kv = new KV.KVClient(_pool.ForClient(i));
            writers[i] = Task.Run(() => PutLoopAsync(kv), CancellationToken.None);
        }

        await Task.WhenAll(writers).ConfigureAwait(false);

        // Bounded wait for the remaining events.
        var drainStart = Stopwatch.GetTimestamp();
        while (Volatile.Read(ref _receivedEvents) < Volatile.Read(ref _expectedEvents)
               && Stopwatch.GetElapsedTime(drainStart) < DrainTimeout)
        {
            await Task.Delay(5, _cancellation).ConfigureAwait(false);
        }

        var missing = Volatile.Read(ref _expectedEvents) - Volatile.Read(ref _receivedEvents);
        if (missing > 0)
        {
            Console.Error.WriteLine($"watch: {missing} events still missing {DrainTimeout.TotalSeconds} s after the last put");
        }
    }

    private async Task PutLoopAsync(KV.KVClient kv)
    {
        var buffer = new byte[Math.Max(8, _options.ValSize)];
        Random.Shared.NextBytes(buffer);
        var request = new PutRequest { Value = UnsafeByteOperations.UnsafeWrap(buffer) };
        var timeout = TimeSpan.FromSeconds(_options.RequestTimeoutSeconds);
        while (!_cancellation.IsCancellationRequested)
        {
            var sequence = Interlocked.Increment(ref _nextPut) - 1;
            if (sequence >= _options.Total)
            {
                break;
            }

            var due = _putStartTicks + (long)(sequence * (double)Stopwatch.Frequency / _options.PutRate);
            var wait = due - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency), _cancellation).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            // The previous put on this writer has completed, so its buffer may be rewritten.
            BinaryPrimitives.WriteInt64BigEndian(buffer, sequence);
            request.Key = _keys.KeyFor(sequence % _options.WatchedKeys);
            var sent = Stopwatch.GetTimestamp();
            Volatile.Write(ref _sentTicks[sequence], sent);
            try
            {
                await kv.PutAsync(request, deadline: DateTime.UtcNow + timeout, cancellationToken: _cancellation).ResponseAsync.ConfigureAwait(false);
                var acked = Stopwatch.GetTimestamp();
                Volatile.Write(ref _ackTicks[sequence], acked);
                _putLatency.Record(acked - sent);
            }
            catch (Exception ex) when (ErrorLog.IsOwnCancellation(ex, _cancellation))
            {
                break;
            }
            catch (Exception ex)
            {
                _errors.Add(ex, "put");
                Interlocked.Add(ref _expectedEvents, -_watchersPerKey[sequence % _options.WatchedKeys]);
            }
        }
    }
}
