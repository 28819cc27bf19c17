using System.Diagnostics;
using Coordination.Client;
using Coordination.Client.Kv;
using Coordination.Concurrency;

namespace Coordination.Integration.Tests.Scenarios;

/// <summary>
/// Contenders for one distributed mutex (a session each, the concurrency SDK's mutex) guarding a
/// shared counter: each holder reads the counter (stored with the token of the holder that wrote
/// it) and increments it in a transaction that commits only while it still holds the lock. Checked:
/// no two holders at once unless one's session was lost, fencing tokens strictly increase in the
/// order the lock is granted, no holder ever sees a counter written under a newer token, and the
/// counter equals the acknowledged increments (give or take those with unknown outcome).
/// </summary>
internal sealed class LockWorkload(ICoordinationClient client, TimeSpan sessionTtl)
{
    private const string LockName = "fwl/lock";
    private const string CounterKey = "fwl/counter";

    private readonly ICoordinationConcurrency _concurrency = CoordinationConcurrency.Create(client);
    private readonly GrantLog _grants = new("lock");
    private readonly List<Task> _tasks = [];
    private int _acknowledgedIncrements;
    private int _unknownIncrements;
    private int _lostSessions;

    /// <summary>Lock grants so far.</summary>
    public int Grants => _grants.Count;

    public void Start(int contenders, CancellationToken stop)
    {
        for (var c = 0; c < contenders; c++) _tasks.Add(Task.Run(() => ContendAsync(stop)));
    }

    public async Task<IReadOnlyList<string>> StopAndVerifyAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_tasks);
        var violations = new List<string>();
        violations.AddRange(_grants.Violations);
        var counter = await client.Kv.GetAsync(CounterKey, cancellationToken: cancellationToken);
        var count = counter is null ? 0 : Parse(counter.ValueString).Count;
        if (count < _acknowledgedIncrements || count > _acknowledgedIncrements + _unknownIncrements)
        {
            violations.Add($"lock-guarded counter is {count}, expected {_acknowledgedIncrements} acknowledged increments (+ up to {_unknownIncrements} with unknown outcome)");
        }
        return violations;
    }

    public string Describe()
    {
        return $"{_grants.Count} lock grants (tokens …{_grants.Tail}), {_acknowledgedIncrements} guarded increments, {_unknownIncrements} unknown, {_lostSessions} sessions lost";
    }

    private async Task ContendAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            ICoordinationSession session;
            try
            {
                session = await _concurrency.CreateSessionAsync(new SessionOptions { Ttl = sessionTtl }, stop);
            }
            catch (Exception)
            {
                if (stop.IsCancellationRequested) return;
                await Task.Delay(100, CancellationToken.None);
                continue;
            }
            await using (session)
            {
                var mutex = _concurrency.CreateMutex(session, LockName);
                while (!stop.IsCancellationRequested && !session.IsLost)
                {
                    try
                    {
                        var handle = await mutex.TryLockAsync(TimeSpan.FromSeconds(2), stop);
                        if (handle is null) continue;
                        await HoldAsync(handle, stop);
                    }
                    catch (Exception) when (!stop.IsCancellationRequested)
                    {
                        await Task.Delay(50, CancellationToken.None);
                    }
                    catch (Exception)
                    {
                        return;
                    }
                }
                if (session.IsLost) Interlocked.Increment(ref _lostSessions);
            }
        }
    }

    private async Task HoldAsync(IMutexHandle handle, CancellationToken stop)
    {
        var grant = _grants.Granted(handle.Key, handle.FencingToken, handle.HandleLostToken);
        try
        {
            var current = await client.Kv.GetAsync(CounterKey, cancellationToken: CancellationToken.None);
            var (token, count) = current is null ? (0L, 0) : Parse(current.ValueString);
            if (token > handle.FencingToken && !handle.HandleLostToken.IsCancellationRequested)
            {
                _grants.Violation($"holder with token {handle.FencingToken} read the counter written under newer token {token}");
            }
            try
            {
                var result = await handle.CommitIfHeldAsync(txn => txn
                    .If(Compare.ModRevision(CounterKey).Equal(current?.ModRevision ?? 0))
                    .Then(TxnOp.Put(CounterKey, $"{handle.FencingToken}:{count + 1}")), CancellationToken.None);
                if (result.Succeeded) Interlocked.Increment(ref _acknowledgedIncrements);
                else if (!handle.HandleLostToken.IsCancellationRequested) _grants.Violation($"holder with token {handle.FencingToken}: the counter changed between its read and its write");
            }
            catch (LockNotHeldException)
            {
                // lost the lock (session lapsed during the fault): refused, as it must be
            }
            catch (Exception)
            {
                Interlocked.Increment(ref _unknownIncrements);
            }
        }
        finally
        {
            // No longer using the resource: from here another holder is legitimate.
            _grants.Released(grant);
            await handle.DisposeAsync();
        }
        await Task.Delay(5, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private static (long Token, int Count) Parse(string value)
    {
        var parts = value.Split(':');
        return (long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
    }
}
