using Coordination.Compatibility.Tests.Fixtures;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;
using Xunit.Sdk;

namespace Coordination.Compatibility.Tests.Durability;

/// <summary>
/// SIGKILL tests: concurrent writers stream puts, deletes and txns at a child server; at a random
/// moment the process is killed and restarted on the same data directory; every acknowledged write
/// must be there with its revision, an in-flight write may be applied or not (atomically), no
/// revision is reused, and the server keeps serving. The seed is printed; set <c>CRASH_SEED</c> to
/// replay the same choices (thread timing still varies). <c>CRASH_CYCLES_SCALE</c> (default 1)
/// multiplies the cycle counts.
/// </summary>
public sealed class CrashRecoveryTests
{
    private const int Writers = 4;
    private const int KeysPerWriter = 12;

    /// <summary>Snapshots every 50 entries: each restart recovers from a snapshot plus the log after it.</summary>
    [Fact]
    public Task Kill_restart_cycles_with_frequent_snapshots_lose_no_acknowledged_write() =>
        RunAsync(cycles: Scaled(36), snapshotCount: 50);

    /// <summary>No snapshot ever (etcd's default count): each restart replays the whole log.</summary>
    [Fact]
    public Task Kill_restart_cycles_replaying_the_whole_log_lose_no_acknowledged_write() =>
        RunAsync(cycles: Scaled(16), snapshotCount: null);

    /// <summary>
    /// The checker can fail: after a crash, the log is cut at a batch boundary two thirds of the way in
    /// (as if fsync had lied about the acknowledged writes after it); the server starts cleanly on the
    /// shorter log, and the verification must report lost acknowledged writes.
    /// </summary>
    [Fact]
    public async Task Checker_reports_acknowledged_writes_removed_from_the_log()
    {
        var ct = TestContext.Current.CancellationToken;
        var seed = Random.Shared.Next();
        var rng = new Random(seed);
        await using var server = await CoordinationProcess.StartNewAsync([], ct);
        var run = new CrashRun(seed);
        var stats = await run.WriteThenKillAsync(server, 1, 0, 400, Enumerable.Range(0, Writers).Select(_ => rng.Next()).ToArray(), ct, minAcknowledged: 40);
        TestContext.Current.TestOutputHelper?.WriteLine($"seed {seed}: {stats}");
        Assert.True(run.Acknowledged > 20, $"only {run.Acknowledged} writes acknowledged");

        var segment = WalFile.Segments(server.WalDir)[^1];
        var records = WalFile.ReadRecords(segment);
        var cutAt = Enumerable.Range(records.Count * 2 / 3, records.Count / 3)
            .First(i => records[i].Type == 2 && records[i - 1].Type == 3);
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(records[cutAt].Offset);
        }

        await server.RestartAsync(ct);
        var error = await Assert.ThrowsAsync<CrashRun.CrashCheckException>(() => run.VerifyAsync(server, 1, ct));
        TestContext.Current.TestOutputHelper?.WriteLine($"cut {records.Count - cutAt} of {records.Count} records; the checker said: {error.Message}");
    }

    private static int Scaled(int cycles) =>
        double.TryParse(Environment.GetEnvironmentVariable("CRASH_CYCLES_SCALE"), CultureInfo.InvariantCulture, out var scale) && scale > 0
            ? Math.Max(1, (int)(cycles * scale))
            : cycles;

    private static async Task RunAsync(int cycles, int? snapshotCount)
    {
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper;
        var seed = int.TryParse(Environment.GetEnvironmentVariable("CRASH_SEED"), CultureInfo.InvariantCulture, out var s) ? s : Random.Shared.Next();
        output?.WriteLine($"CRASH_SEED={seed} cycles={cycles} snapshot-count={snapshotCount?.ToString(CultureInfo.InvariantCulture) ?? "default"}");
        var rng = new Random(seed);

        string[] args = snapshotCount is { } count ? ["--snapshot-count", count.ToString(CultureInfo.InvariantCulture)] : [];
        await using var server = await CoordinationProcess.StartNewAsync(args, ct);
        var run = new CrashRun(seed);
        var clock = Stopwatch.StartNew();
        var restartsFromSnapshot = 0;
        var kills = 0;
        try
        {
            var floor = 0L;
            for (var cycle = 1; cycle <= cycles; cycle++)
            {
                ct.ThrowIfCancellationRequested();
                // Sometimes kill right after start-up (recovery itself interrupted), else after writing for a while.
                var writeMs = rng.Next(8) == 0 ? 0 : rng.Next(30, 450);
                var writerSeeds = Enumerable.Range(0, Writers).Select(_ => rng.Next()).ToArray();
                var stats = await run.WriteThenKillAsync(server, cycle, floor, writeMs, writerSeeds, ct);
                kills++;

                if (Directory.Exists(server.SnapDir) && Directory.EnumerateFiles(server.SnapDir, "*.snap").Any())
                {
                    restartsFromSnapshot++;
                }

                var restart = Stopwatch.StartNew();
                await server.RestartAsync(ct);
                floor = await run.VerifyAsync(server, cycle, ct);
                output?.WriteLine($"cycle {cycle}: {stats}, restarted in {restart.ElapsedMilliseconds} ms, revision {floor}");
            }

            // One more kill of a quiet server, then a last full check and a normal put/get.
            server.Kill();
            kills++;
            await server.RestartAsync(ct);
            floor = await run.VerifyAsync(server, cycles + 1, ct);
            using (var channel = server.OpenChannel())
            {
                var kv = new KV.KVClient(channel);
                var put = await kv.PutAsync(new PutRequest { Key = CrashModel.Bytes("crash/final"), Value = CrashModel.Bytes("ok") }, cancellationToken: ct);
                Assert.True(put.Header.Revision > floor, $"seed {seed}: put after the last restart got revision {put.Header.Revision}, not above {floor}");
                var get = await kv.RangeAsync(new RangeRequest { Key = CrashModel.Bytes("crash/final") }, cancellationToken: ct);
                Assert.Equal("ok", Assert.Single(get.Kvs).Value.ToStringUtf8());
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new XunitException($"CRASH_SEED={seed}: {e.Message}\n--- server log (tail) ---\n{server.Log.Tail(6000)}", e);
        }

        output?.WriteLine($"{kills} SIGKILLs, {run.Acknowledged} acknowledged writes, {run.InFlightApplied} in-flight writes found applied, " +
            $"{run.InFlightNotApplied} not applied, {restartsFromSnapshot} restarts with a snapshot present, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(run.Acknowledged > cycles, $"seed {seed}: only {run.Acknowledged} writes were acknowledged in {cycles} cycles; the test did not exercise much");
        if (snapshotCount is not null)
        {
            Assert.True(restartsFromSnapshot > cycles / 2,
                $"seed {seed}: a snapshot existed before only {restartsFromSnapshot} of {cycles} restarts; --snapshot-count {snapshotCount} was expected to produce them");
        }
    }
}

/// <summary>State of one crash run: per-writer models, every acknowledged revision.</summary>
internal sealed class CrashRun(int seed)
{
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(20);

    private readonly CrashModel[] _models = Enumerable.Range(0, 4).Select(_ => new CrashModel()).ToArray();
    private readonly long[] _lastRevision = new long[4];
    private readonly CrashOp?[] _inFlight = new CrashOp?[4];
    private readonly ConcurrentDictionary<long, string> _revisions = new();
    private long _maxAcknowledged;
    private int _opCounter;

    public int Acknowledged => _revisions.Count;

    public int InFlightApplied { get; private set; }

    public int InFlightNotApplied { get; private set; }

    private static string Prefix(int writer) => $"crash/w{writer}/";

    private static string KeyOf(int writer, int index) => $"{Prefix(writer)}k{index:D2}";

    /// <summary>Runs the writers for <paramref name="writeMs"/>, SIGKILLs the server while they are
    /// still writing, and waits for the writers to notice.</summary>
    /// <summary>Writes for <paramref name="writeMs"/>, and on until at least <paramref name="minAcknowledged"/>
    /// writes were acknowledged (a loaded machine may acknowledge few in a short window), then kills.</summary>
    public async Task<string> WriteThenKillAsync(CoordinationProcess server, int cycle, long floor, int writeMs, int[] writerSeeds, CancellationToken ct, int minAcknowledged = 0)
    {
        var killed = new StrongBox<bool>();
        using var channel = server.OpenChannel();
        var acked = new int[writerSeeds.Length];
        var writers = writerSeeds.Select((s, w) => Task.Run(() => WriterAsync(channel, w, cycle, floor, new Random(s), killed, acked, ct), ct)).ToArray();
        if (writeMs > 0)
        {
            await Task.Delay(writeMs, ct);
        }

        var waited = Stopwatch.StartNew();
        while (acked.Sum() < minAcknowledged && waited.Elapsed < TimeSpan.FromSeconds(30) && !writers.Any(t => t.IsCompleted))
        {
            await Task.Delay(20, ct);
        }

        Volatile.Write(ref killed.Value, true);
        server.Kill();
        var all = Task.WhenAll(writers);
        if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(30), ct)) != all)
        {
            throw new InvalidOperationException($"cycle {cycle}: writers still busy 30 s after the kill");
        }

        await all; // rethrows a writer's assertion failure
        return $"wrote {writeMs} ms, {acked.Sum()} acked, {_inFlight.Count(o => o is not null)} in flight";
    }

    private async Task WriterAsync(GrpcChannel channel, int w, int cycle, long floor, Random rng, StrongBox<bool> killed, int[] acked, CancellationToken ct)
    {
        var kv = new KV.KVClient(channel);
        var model = _models[w];
        // Keeps writing through the kill, until a call fails: so the kill always lands while writes are
        // in flight (stopping at the kill flag would let the writers go idle before the SIGKILL).
        while (true)
        {
            var op = NextOp(model, w, cycle, rng);
            _inFlight[w] = op;
            long revision;
            bool bumped;
            try
            {
                var options = new CallOptions(deadline: DateTime.UtcNow + CallDeadline, cancellationToken: ct);
                switch (op)
                {
                    case PutOp put:
                    {
                        var response = await kv.PutAsync(new PutRequest { Key = CrashModel.Bytes(put.Key), Value = CrashModel.Bytes(put.Value) }, options);
                        revision = response.Header.Revision;
                        bumped = true;
                        break;
                    }

                    case DeleteOp delete:
                    {
                        var response = await kv.DeleteRangeAsync(new DeleteRangeRequest { Key = CrashModel.Bytes(delete.Key) }, options);
                        var expected = model.Contains(delete.Key) ? 1 : 0;
                        Check(response.Deleted == expected, $"writer {w}: {op.Describe()} deleted {response.Deleted}, model expects {expected}");
                        revision = response.Header.Revision;
                        bumped = expected == 1;
                        break;
                    }

                    case TxnOp txn:
                    {
                        var response = await kv.TxnAsync(CrashModel.ToRequest(txn), options);
                        var expected = model.Evaluate(txn);
                        Check(response.Succeeded == expected, $"writer {w}: {op.Describe()} succeeded={response.Succeeded}, model expects {expected}");
                        revision = response.Header.Revision;
                        bumped = true;
                        break;
                    }

                    default:
                        throw new InvalidOperationException();
                }
            }
            catch (RpcException e) when (Volatile.Read(ref killed.Value) && !IsServerVerdict(e.StatusCode))
            {
                return; // the kill interrupted it: outcome unknown, stays in _inFlight
            }
            catch (Exception e) when (Volatile.Read(ref killed.Value) && (e is HttpRequestException or IOException or OperationCanceledException) && !ct.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException e)
            {
                throw new InvalidOperationException($"writer {w}, cycle {cycle}: {op.Describe()} failed before the kill: {e.Status}", e);
            }

            _inFlight[w] = null;
            if (bumped)
            {
                Check(revision > floor, $"writer {w}: {op.Describe()} acknowledged at revision {revision}, not above the revision {floor} the server reported after restart (revision reused)");
                Check(revision > _lastRevision[w], $"writer {w}: {op.Describe()} acknowledged at revision {revision}, not above its previous write's {_lastRevision[w]}");
                var description = $"cycle {cycle} writer {w} {op.Describe()}";
                if (!_revisions.TryAdd(revision, description))
                {
                    Check(false, $"revision {revision} acknowledged twice: {_revisions[revision]} and {description}");
                }

                _lastRevision[w] = revision;
                InterlockedMax(ref _maxAcknowledged, revision);
            }
            else
            {
                Check(revision >= floor, $"writer {w}: {op.Describe()} answered with header revision {revision}, below {floor}");
            }

            model.Apply(op, revision);
            Interlocked.Increment(ref acked[w]);
        }
    }

    /// <summary>Codes only the server's own logic produces; a kill never causes them.</summary>
    private static bool IsServerVerdict(StatusCode code) =>
        code is StatusCode.InvalidArgument or StatusCode.FailedPrecondition or StatusCode.OutOfRange or StatusCode.ResourceExhausted
            or StatusCode.DataLoss or StatusCode.NotFound or StatusCode.AlreadyExists or StatusCode.PermissionDenied or StatusCode.Unimplemented;

    private CrashOp NextOp(CrashModel model, int w, int cycle, Random rng)
    {
        var n = Interlocked.Increment(ref _opCounter);
        string Value()
        {
            // Mostly small values; sometimes large ones, so that a record spans several pages.
            var length = rng.Next(20) == 0 ? rng.Next(8_000, 70_000) : rng.Next(1, 120);
            var head = $"c{cycle}-op{n}-";
            var sb = new StringBuilder(head, head.Length + length);
            for (var i = 0; i < length; i++)
            {
                sb.Append((char)('a' + rng.Next(26)));
            }

            return sb.ToString();
        }

        var roll = rng.Next(100);
        if (roll < 45)
        {
            return new PutOp(KeyOf(w, rng.Next(KeysPerWriter)), Value());
        }

        if (roll < 63)
        {
            return new DeleteOp(KeyOf(w, rng.Next(KeysPerWriter)));
        }

        var picks = Enumerable.Range(0, KeysPerWriter).OrderBy(_ => rng.Next()).Take(3).ToArray();
        var compareKey = KeyOf(w, rng.Next(KeysPerWriter));
        model.Keys.TryGetValue(compareKey, out var state);
        var target = rng.Next(2) == 0 ? Etcdserverpb.Compare.Types.CompareTarget.Version : Etcdserverpb.Compare.Types.CompareTarget.Mod;
        var current = target == Etcdserverpb.Compare.Types.CompareTarget.Version ? state?.Version ?? 0 : state?.ModRevision ?? 0;
        var compareValue = rng.Next(3) == 0 ? current + 1 : current; // mostly true
        return new TxnOp(
            compareKey,
            target,
            compareValue,
            [(KeyOf(w, picks[0]), Value()), (KeyOf(w, picks[1]), Value())],
            KeyOf(w, picks[2]),
            (KeyOf(w, rng.Next(KeysPerWriter)), Value()));
    }

    private const int KeysPerWriter = 12;

    /// <summary>
    /// After a restart: reads every key and checks it against the models; a writer's in-flight op is
    /// accepted when the state shows it fully applied (at one revision above the writer's last
    /// acknowledged one) or not at all. Returns the server's current revision.
    /// </summary>
    public async Task<long> VerifyAsync(CoordinationProcess server, int cycle, CancellationToken ct)
    {
        using var channel = server.OpenChannel();
        var kv = new KV.KVClient(channel);
        var response = await kv.RangeAsync(
            new RangeRequest { Key = CrashModel.Bytes("crash/w"), RangeEnd = CrashModel.Bytes("crash/x") },
            new CallOptions(deadline: DateTime.UtcNow + CallDeadline, cancellationToken: ct));
        var current = response.Header.Revision;
        Check(current >= _maxAcknowledged,
            $"after restart {cycle} the server is at revision {current}, below the highest acknowledged revision {_maxAcknowledged} (acknowledged writes lost)");

        for (var w = 0; w < _models.Length; w++)
        {
            var prefix = Prefix(w);
            var actual = response.Kvs
                .Where(k => k.Key.ToStringUtf8().StartsWith(prefix, StringComparison.Ordinal))
                .ToDictionary(k => k.Key.ToStringUtf8(), k => new KeyState(k.Value.ToStringUtf8(), k.CreateRevision, k.ModRevision, k.Version), StringComparer.Ordinal);
            var model = _models[w];
            var diff = model.Diff(actual);
            var inFlight = _inFlight[w];
            _inFlight[w] = null;
            if (diff.Count == 0)
            {
                if (inFlight is not null)
                {
                    InFlightNotApplied++;
                }

                continue;
            }

            if (inFlight is null)
            {
                Check(false, $"after restart {cycle}, writer {w} (nothing in flight) differs from its acknowledged writes:\n  {string.Join("\n  ", diff)}");
            }

            // The in-flight op may have been applied: all of it, at a single new revision.
            var putKeys = model.PutKeys(inFlight!);
            var revision = putKeys.Count > 0 && actual.TryGetValue(putKeys[0], out var first) ? first.ModRevision : 0;
            var applied = model.Clone();
            applied.Apply(inFlight!, revision);
            var appliedDiff = applied.Diff(actual);
            Check(appliedDiff.Count == 0,
                $"after restart {cycle}, writer {w} matches neither its acknowledged writes nor those plus the in-flight {inFlight!.Describe()}.\n" +
                $" vs acknowledged:\n  {string.Join("\n  ", diff)}\n vs acknowledged + in-flight:\n  {string.Join("\n  ", appliedDiff)}");
            if (putKeys.Count > 0)
            {
                Check(revision > _lastRevision[w], $"after restart {cycle}, writer {w}'s in-flight {inFlight.Describe()} was applied at revision {revision}, not above its last acknowledged {_lastRevision[w]}");
                Check(_revisions.TryAdd(revision, $"cycle {cycle} writer {w} in-flight {inFlight.Describe()}"),
                    $"after restart {cycle}, writer {w}'s in-flight {inFlight.Describe()} was applied at revision {revision}, which was acknowledged for {(_revisions.TryGetValue(revision, out var other) ? other : "?")}");
                _lastRevision[w] = revision;
                InterlockedMax(ref _maxAcknowledged, revision);
            }

            _models[w] = applied;
            InFlightApplied++;
        }

        return current;
    }

    private void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new CrashCheckException($"seed {seed}: {message}");
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    internal sealed class CrashCheckException(string message) : Exception(message);

    private sealed class StrongBox<T>
    {
        public T Value = default!;
    }
}
