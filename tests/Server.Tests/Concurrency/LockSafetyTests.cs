using Coordination.Server.Concurrency;
using Coordination.Server.Errors;
using Etcdserverpb;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Concurrency;

/// <summary>
/// Mutual exclusion under contention and lease loss: contenders loop lock → hold → unlock while
/// some of them lose their lease as they wait. The checker: no two holders at once, and every
/// holder's key exists when it is granted. Its negative control runs the same workload over a
/// store that hides the earlier waiters from a new one, and must see the violation.
/// </summary>
public sealed class LockSafetyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(List<string> Violations, int Refused, int Granted)> RunAsync(InMemoryCoordination member, int contenders, int rounds, int seed)
    {
        var locks = new Locks(member, member);
        var violations = new List<string>();
        var holders = 0;
        var random = new Random(seed);
        var expiries = 0;
        var refused = 0;
        var granted = 0;

        async Task ContenderAsync(int id)
        {
            for (var round = 0; round < rounds; round++)
            {
                var lease = (await member.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }, Ct)).ID;
                bool loseLease;
                lock (random) loseLease = random.Next(4) == 0;
                var attempt = locks.LockAsync(B("safety"), lease, Ct);
                if (loseLease && !attempt.IsCompleted)
                {
                    member.Revoke(lease);
                    Interlocked.Increment(ref expiries);
                }
                Locks.Acquired held;
                try
                {
                    held = await attempt.WaitAsync(TimeSpan.FromSeconds(30), Ct);
                }
                catch (EtcdException ex) when (ex.Error == ConcurrencyErrors.SessionExpired)
                {
                    Interlocked.Increment(ref refused);
                    continue;
                }
                Interlocked.Increment(ref granted);
                if (Interlocked.Increment(ref holders) > 1) lock (violations) violations.Add($"contender {id} round {round}: two holders");
                if (!member.Exists(S(held.Key))) lock (violations) violations.Add($"contender {id} round {round}: granted without its key");
                await Task.Delay(1, Ct); // hold the lock long enough for an overlap to be observable
                Interlocked.Decrement(ref holders);
                await locks.UnlockAsync(held.Key, Ct);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, contenders).Select(i => Task.Run(() => ContenderAsync(i), Ct)));
        return (violations, refused, granted);
    }

    [Fact]
    public async Task No_two_holders_and_no_holder_without_its_key()
    {
        var (violations, refused, granted) = await RunAsync(new InMemoryCoordination(), contenders: 6, rounds: 40, seed: 7);
        Assert.Empty(violations);
        Assert.True(refused > 0, "the workload must make some waiters lose their lease while they wait");
        Assert.True(granted > 100, $"only {granted} locks were granted");
    }

    [Fact]
    public async Task Negative_control_a_store_that_hides_earlier_waiters_is_caught()
    {
        var (violations, _, _) = await RunAsync(new InMemoryCoordination { HidePredecessors = true }, contenders: 6, rounds: 40, seed: 7);
        Assert.NotEmpty(violations);
    }
}
