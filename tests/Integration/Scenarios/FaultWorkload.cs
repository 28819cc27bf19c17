using System.Collections.Concurrent;
using System.Diagnostics;
using Coordination.Client;
using Coordination.Client.Kv;
using Coordination.Client.Lease;
using Coordination.Client.Watch;
using Coordination.Testing.Linearizability;

namespace Coordination.Integration.Tests.Scenarios;

/// <summary>
/// The load a fault scenario runs while it injects its fault, through the SDK with every member's
/// endpoint: writers putting unique keys (no acknowledged one may be lost), clients reading and
/// writing a few hot keys (their history must be linearizable), and a watch over everything from
/// the first revision (no gap, no duplicate, every acknowledged put seen). <see cref="Verify"/>
/// returns the violations, each naming the operation.
/// </summary>
internal sealed class FaultWorkload : IAsyncDisposable
{
    private const string Prefix = "fw/";
    private static readonly string[] HotKeys = ["fw/hot/a", "fw/hot/b", "fw/hot/c"];

    private readonly ICoordinationClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, long> _acknowledged = new();
    private readonly ConcurrentBag<Operation<KvInput, string?>> _history = [];
    private readonly List<long> _watchedRevisions = [];
    private readonly HashSet<string> _watchedKeys = [];
    private readonly List<Task> _tasks = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private IWatchSubscription? _watch;
    private Task? _watching;
    private readonly LockWorkload _locks;
    private readonly ElectionWorkload _elections;
    private ILeaseKeepAlive? _lease;
    private int _unknownWrites;
    private int _hotEvents;

    public FaultWorkload(IEnumerable<Uri> endpoints)
    {
        _client = CoordinationClient.Create(new CoordinationClientOptions
        {
            Endpoints = [.. endpoints.Select(e => e.ToString().TrimEnd('/'))],
            CallTimeout = TimeSpan.FromSeconds(3),
            EndpointCooldown = TimeSpan.FromSeconds(1),
            // A paused member never answers nor breaks the connection: HTTP/2 pings (as etcdctl's
            // --keepalive-time/--keepalive-timeout) let the lease keep-alive stream leave it in ~4 s
            // instead of the defaults' 15 s, which equal the sessions' TTL.
            KeepAlivePingDelay = TimeSpan.FromSeconds(2),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(2),
        });
        _locks = new LockWorkload(_client, LeaseTtl);
        // A hand-over waits at most for a lost session to expire (its TTL), plus the fault's election.
        _elections = new ElectionWorkload(_client, LeaseTtl, LeaseTtl + TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// The TTL of the lock and election sessions. A fault may outlast it (a session lost to a fault is
    /// allowed; the lock and election checks cover what follows).
    /// </summary>
    public static readonly TimeSpan LeaseTtl = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The TTL of the lease the SDK keeps alive through the fault, which must outlive it: longer than
    /// any fault's outage. A full restart of etcd's containers on a loaded 2-core machine kept the
    /// cluster unavailable for 15.2 s once (stopped at 2.9 s, every member healthy at 18.1 s), past
    /// a 15 s TTL, and the SDK then rightly reported the lease lost.
    /// </summary>
    public static readonly TimeSpan KeptLeaseTtl = TimeSpan.FromSeconds(60);

    private const string LeaseKey = "fwe/leased";

    /// <summary>Acknowledged writes so far.</summary>
    public int Acknowledged => _acknowledged.Count;

    /// <summary>The id of the lease the SDK keeps alive (for the negative control that revokes it).</summary>
    public long KeptLeaseId => _lease?.LeaseId ?? throw new InvalidOperationException("the workload has not started");

    /// <summary>Some acknowledged key (for the negative control that removes one behind the workload's back).</summary>
    public string AnyAcknowledgedKey => _acknowledged.Keys.First();

    /// <summary>
    /// Starts the watch, a lease kept alive by the SDK with a key on it, then <paramref name="writers"/>
    /// unique-key writers, <paramref name="hotClients"/> hot-key clients and <paramref name="lockContenders"/> mutex contenders.
    /// </summary>
    public async Task StartAsync(int writers, int hotClients, CancellationToken cancellationToken, int lockContenders = 0)
    {
        _lease = await _client.Lease.GrantAndKeepAliveAsync((long)KeptLeaseTtl.TotalSeconds, cancellationToken);
        await _client.Kv.PutAsync(LeaseKey, "kept alive", new PutOptions { Lease = _lease.LeaseId }, cancellationToken);
        _locks.Start(lockContenders, _stop.Token);
        _elections.Start(lockContenders > 0 ? 2 : 0, _stop.Token);
        _watch = await _client.Watch.WatchPrefixAsync(Prefix, new WatchOptions { StartRevision = 1 }, cancellationToken);
        _watching = Task.Run(() => WatchAsync(_watch));
        for (var w = 0; w < writers; w++)
        {
            var id = w;
            _tasks.Add(Task.Run(() => WriteUniqueAsync(id)));
        }
        for (var c = 0; c < hotClients; c++)
        {
            var id = 100 + c;
            _tasks.Add(Task.Run(() => HotAsync(id)));
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> more writes have been acknowledged (bounded).</summary>
    public async Task WaitForMoreAcknowledgedAsync(int count, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var target = Acknowledged + count;
        var deadline = Stopwatch.StartNew();
        while (Acknowledged < target)
        {
            if (deadline.Elapsed > timeout) throw new TimeoutException($"only {Acknowledged - target + count} of {count} writes were acknowledged within {timeout.TotalSeconds:F0} s");
            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>Stops the load, then reads the final state and checks every promise.</summary>
    public async Task<IReadOnlyList<string>> StopAndVerifyAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_tasks);
        var violations = new List<string>();
        violations.AddRange(await _locks.StopAndVerifyAsync(cancellationToken));
        violations.AddRange(await _elections.StopAndVerifyAsync());
        if (_lease is not null)
        {
            if (_lease.LeaseLost.IsCancellationRequested) violations.Add($"the SDK reports lease {_lease.LeaseId:x} (TTL {KeptLeaseTtl.TotalSeconds:F0} s, kept alive) lost");
            var ttl = await _client.Lease.TimeToLiveAsync(_lease.LeaseId, keys: true, cancellationToken);
            if (ttl.TtlSeconds <= 0) violations.Add($"lease {_lease.LeaseId:x} (kept alive by the SDK) did not outlive the fault: TTL {ttl.TtlSeconds}");
            if (await _client.Kv.GetAsync(LeaseKey, cancellationToken: cancellationToken) is null) violations.Add($"key {LeaseKey} on the kept-alive lease {_lease.LeaseId:x} is gone");
        }

        var final = await _client.Kv.GetPrefixAsync(Prefix, cancellationToken: cancellationToken);
        var present = final.Kvs.ToDictionary(kv => kv.KeyString, kv => kv.ModRevision);
        foreach (var (key, revision) in _acknowledged)
        {
            if (!present.TryGetValue(key, out var seen)) violations.Add($"acknowledged put {key} (revision {revision}) is missing");
            else if (seen != revision) violations.Add($"acknowledged put {key} has revision {seen}, acknowledged at {revision}");
        }

        // Let the watch catch up to the final revision, then check it.
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(20))
        {
            lock (_watchedRevisions) if (_watchedRevisions.Count > 0 && _watchedRevisions[^1] >= final.Header.Revision) break;
            await Task.Delay(100, cancellationToken);
        }
        await _watch!.DisposeAsync();
        try { await _watching!; } catch (OperationCanceledException) { }
        lock (_watchedRevisions)
        {
            for (var i = 1; i < _watchedRevisions.Count; i++)
            {
                if (_watchedRevisions[i] < _watchedRevisions[i - 1]) violations.Add($"watch went back from revision {_watchedRevisions[i - 1]} to {_watchedRevisions[i]}");
            }
            foreach (var key in _acknowledged.Keys.Where(k => !_watchedKeys.Contains(k))) violations.Add($"the watch never saw acknowledged put {key}");
            if (_watchedKeys.Count != _watchedRevisions.Count - _hotEvents) violations.Add($"the watch delivered {_watchedRevisions.Count - _hotEvents} unique-key events for {_watchedKeys.Count} keys (duplicates)");
        }

        var result = LinearizabilityChecker.Check(KvModel.Instance, _history);
        if (result.Verdict == Verdict.NotLinearizable) violations.Add($"hot-key history is not linearizable: {result.Partition}: {result.Explanation}");
        return violations;
    }

    /// <summary>A one-line account of what ran, for failure messages.</summary>
    public string Describe() => $"{_acknowledged.Count} acknowledged unique puts, {_unknownWrites} with unknown outcome, {_history.Count} hot-key operations ({_history.Count(o => o.OutcomeUnknown)} unknown), {_watchedRevisions.Count} watched events; {_locks.Describe()}; {_elections.Describe()}";

    /// <summary>The last hot-key operations, one a line (client, operation, result, call and return ticks), for failure messages.</summary>
    public string HistoryTail(int count) => string.Join("\n    ", _history.OrderBy(o => o.Call).TakeLast(count).Select(o =>
        $"c{o.ClientId} {o.Input.Op} {o.Input.Key}{(o.Input.Value is null ? "" : "=" + o.Input.Value)} -> {(o.OutcomeUnknown ? "unknown" : o.Output ?? "(none)")} [{o.Call}..{o.Return}]"));

    private async Task WatchAsync(IWatchSubscription watch)
    {
        // Ends when the subscription is disposed in StopAndVerifyAsync, after it caught up.
        await foreach (var e in watch.EventsAsync(CancellationToken.None))
        {
            lock (_watchedRevisions)
            {
                _watchedRevisions.Add(e.Kv.ModRevision);
                if (e.Kv.KeyString.StartsWith("fw/hot/", StringComparison.Ordinal)) _hotEvents++;
                else _watchedKeys.Add(e.Kv.KeyString);
            }
        }
    }

    private async Task WriteUniqueAsync(int writer)
    {
        for (var seq = 0; !_stop.IsCancellationRequested; seq++)
        {
            var key = $"{Prefix}w{writer}/{seq:D6}";
            try
            {
                var put = await _client.Kv.PutAsync(key, "v", cancellationToken: CancellationToken.None);
                _acknowledged[key] = put.Header.Revision;
            }
            catch (Exception)
            {
                // Unknown outcome (or refused): never counted as acknowledged; the key is not reused.
                Interlocked.Increment(ref _unknownWrites);
                await Task.Delay(20);
            }
        }
    }

    private async Task HotAsync(int clientId)
    {
        var random = new Random(clientId);
        for (var seq = 0; !_stop.IsCancellationRequested; seq++)
        {
            var key = HotKeys[random.Next(HotKeys.Length)];
            var isPut = random.Next(2) == 0;
            var input = isPut ? new KvInput(KvOp.Put, key, $"c{clientId}-{seq}") : new KvInput(KvOp.Get, key);
            var call = _clock.ElapsedTicks;
            try
            {
                string? output = null;
                if (isPut) await _client.Kv.PutAsync(key, input.Value!, cancellationToken: CancellationToken.None);
                else output = (await _client.Kv.GetAsync(key, cancellationToken: CancellationToken.None))?.ValueString;
                _history.Add(new Operation<KvInput, string?>(clientId, input, output, call, _clock.ElapsedTicks));
            }
            catch (Exception)
            {
                // A failed read has no effect; a failed write may have been applied.
                if (isPut) _history.Add(new Operation<KvInput, string?>(clientId, input, null, call, 0, OutcomeUnknown: true));
                await Task.Delay(20);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_watch is not null) await _watch.DisposeAsync();
        if (_lease is not null) await _lease.DisposeAsync();
        await _client.DisposeAsync();
        _stop.Dispose();
    }
}
