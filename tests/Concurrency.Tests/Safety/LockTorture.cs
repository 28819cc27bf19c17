using System.Globalization;
using Coordination.Client.Kv;
using Coordination.Concurrency.Sessions;

namespace Coordination.Concurrency.Tests.Safety;

/// <summary>Fault rates and bounds of one torture run.</summary>
internal sealed record TortureOptions
{
    public int Contenders { get; init; } = 4;

    public int Grants { get; init; } = 300;

    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan SessionTtl { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>A holder revokes the lease of the contender queued right behind it, then releases: that waiter's session dies while it waits.</summary>
    public double RevokeSuccessor { get; init; } = 0.1;

    /// <summary>A holder crashes: its lease is revoked, and it does nothing more.</summary>
    public double CrashRevoke { get; init; } = 0.03;

    /// <summary>A holder crashes by no longer renewing: its lock lasts until the lease expires.</summary>
    public double CrashStopKeepAlive { get; init; } = 0.02;

    public int MaxKeepAliveStops { get; init; } = 2;

    public int Seed { get; init; } = 20261124;
}

/// <summary>
/// Several contenders take a lock in turns while sessions are killed at random, and each holder
/// increments a counter with a read-modify-write that the resource fences with the holder's token.
/// </summary>
internal sealed class LockTorture(Func<ICoordinationClient> newClient, string name, Func<ICoordinationSession, string, ICoordinationMutex> mutexFor, TortureOptions options)
{
    private readonly string _counterKey = name + "-counter";
    private readonly string _fenceKey = name + "-fence";
    private int _grants;
    private int _keepAliveStops;

    public LockSafetyChecker Checker { get; } = new();

    public int SessionsExpiredWhileWaiting;

    public int Crashes;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var setup = newClient();
        await setup.Kv.PutAsync(_counterKey, "0", cancellationToken: cancellationToken);
        await setup.Kv.PutAsync(_fenceKey, Pad(0), cancellationToken: cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(options.TimeLimit);

        await Task.WhenAll(Enumerable.Range(0, options.Contenders).Select(i => Task.Run(() => ContendAsync(i, limit.Token), CancellationToken.None)));

        var counter = await setup.Kv.GetStringAsync(_counterKey, cancellationToken);
        Checker.FinalCounter(long.Parse(counter ?? "0", CultureInfo.InvariantCulture));
    }

    private async Task ContendAsync(int index, CancellationToken stop)
    {
        var client = newClient();
        var recipes = CoordinationConcurrency.Create(client);
        var random = new Random(options.Seed + index);
        var abandoned = new List<ICoordinationSession>();
        ICoordinationSession? session = null;
        try
        {
            while (Volatile.Read(ref _grants) < options.Grants && !stop.IsCancellationRequested)
            {
                session ??= await recipes.CreateSessionAsync(new SessionOptions { Ttl = options.SessionTtl }, stop);
                IMutexHandle handle;
                try
                {
                    handle = await mutexFor(session, name).LockAsync(stop);
                }
                catch (Exception e) when (e is SessionExpiredException or EtcdLeaseNotFoundException)
                {
                    Interlocked.Increment(ref SessionsExpiredWhileWaiting);
                    await session.DisposeAsync();
                    session = null;
                    continue;
                }

                Checker.Granted(handle.FencingToken);
                Interlocked.Increment(ref _grants);
                var roll = random.NextDouble();
                if (roll < options.CrashRevoke)
                {
                    Interlocked.Increment(ref Crashes);
                    await session.CloseAsync(stop); // the lease is revoked; this holder acts no more
                    session = null;
                    continue;
                }

                roll -= options.CrashRevoke;
                if (roll < options.CrashStopKeepAlive && Interlocked.Increment(ref _keepAliveStops) <= options.MaxKeepAliveStops)
                {
                    Interlocked.Increment(ref Crashes);
                    await ((CoordinationSession)session).AbandonKeepAliveAsync(); // the lock lasts until the lease expires
                    abandoned.Add(session);
                    session = null;
                    continue;
                }

                roll -= options.CrashStopKeepAlive;
                var read = await client.Kv.GetAsync(_counterKey, cancellationToken: stop);
                var value = long.Parse(read!.ValueString, CultureInfo.InvariantCulture);
                if (roll < options.RevokeSuccessor)
                {
                    await RevokeSuccessorAsync(client, handle.FencingToken, stop);
                }

                var write = await client.Kv.Txn()
                    .If(Compare.Value(_fenceKey).Less(Pad(handle.FencingToken)))
                    .Then(TxnOp.Put(_counterKey, (value + 1).ToString(CultureInfo.InvariantCulture)), TxnOp.Put(_fenceKey, Pad(handle.FencingToken)))
                    .Else(TxnOp.Get(_fenceKey))
                    .CommitAsync(stop);
                Checker.FencedWrite(handle.FencingToken, write.Succeeded, write.Succeeded ? string.Empty : write.Results[0].Range!.Kvs[0].ValueString.TrimStart('0'));
                await handle.ReleaseAsync(stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        finally
        {
            if (session is not null)
            {
                await session.DisposeAsync();
            }

            foreach (var dead in abandoned)
            {
                await dead.DisposeAsync();
            }
        }
    }

    /// <summary>Revokes the lease of the key created right after ours: a contender that is waiting (we hold the lock).</summary>
    private async Task RevokeSuccessorAsync(ICoordinationClient client, long ourToken, CancellationToken stop)
    {
        var keys = await client.Kv.GetPrefixAsync(name + "/", cancellationToken: stop);
        var successor = keys.Kvs.Where(kv => kv.CreateRevision > ourToken).MinBy(kv => kv.CreateRevision);
        if (successor is null)
        {
            return;
        }

        try
        {
            await client.Lease.RevokeAsync(successor.Lease, stop);
        }
        catch (EtcdLeaseNotFoundException)
        {
        }
    }

    private static string Pad(long token) => token.ToString("D20", CultureInfo.InvariantCulture);
}
