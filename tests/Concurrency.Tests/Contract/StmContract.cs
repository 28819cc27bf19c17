using System.Globalization;
using Coordination.Concurrency.Tests.Fixtures;

namespace Coordination.Concurrency.Tests.Contract;

public abstract class StmContract(ConcurrencyTarget target) : TargetTestBase(target)
{
    /// <summary>The levels whose commit check makes a read-modify-write of the keys read safe.</summary>
    public static TheoryData<StmIsolation> SafeLevels =>
        [StmIsolation.SerializableSnapshot, StmIsolation.Serializable, StmIsolation.RepeatableReads];

    [Theory]
    [MemberData(nameof(SafeLevels))]
    public async Task Concurrent_transfers_keep_the_total_constant(StmIsolation isolation)
    {
        const int Accounts = 6, Workers = 4, TransfersEach = 15, Initial = 100;
        await SeedAccountsAsync(Accounts, Initial);

        var attempts = 0;
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            for (var i = 0; i < TransfersEach; i++)
            {
                var from = random.Next(Accounts);
                var to = (from + 1 + random.Next(Accounts - 1)) % Accounts;
                var amount = random.Next(1, 20);
                var result = await Recipes.RunStmAsync((stm, ct) => TransferAsync(stm, Account(from), Account(to), amount, ct), new StmOptions { Isolation = isolation, MaxAttempts = 1000, JitterSeed = worker }, Ct);
                Interlocked.Add(ref attempts, result.Attempts);
            }
        }, Ct)));

        Assert.Equal(Accounts * Initial, await TotalAsync(Accounts));
        Assert.True(attempts >= Workers * TransfersEach);
    }

    [Theory]
    [MemberData(nameof(SafeLevels))]
    public async Task A_conflicting_commit_is_detected_and_retried(StmIsolation isolation)
    {
        var (outcome, first, second) = await RunTwoInterleavedTransfersAsync(isolation);

        Assert.Equal(300, outcome.Total); // 100 + 100 + 100: nothing created or lost
        Assert.Equal(80, outcome.Source); // both transfers of 10 applied
        Assert.Equal(3, first.Attempts + second.Attempts); // one of them conflicted once and ran again
    }

    [Fact]
    public async Task Without_a_commit_check_the_checker_sees_the_total_change()
    {
        // Negative control of the transfer checker: read committed has no compare guard, so two
        // transfers that both read the source before either commits lose one debit.
        var (outcome, first, second) = await RunTwoInterleavedTransfersAsync(StmIsolation.ReadCommitted);

        Assert.Equal(1, first.Attempts);
        Assert.Equal(1, second.Attempts);
        Assert.NotEqual(300, outcome.Total);
        Assert.Equal(90, outcome.Source);
    }

    [Fact]
    public async Task The_retry_limit_surfaces_as_a_typed_exception()
    {
        await Client.Kv.PutAsync(Account(0), "1", cancellationToken: Ct);
        var other = NewClient();
        var runs = 0;

        var error = await Assert.ThrowsAsync<StmConflictException>(() => Recipes.RunStmAsync(async (stm, ct) =>
        {
            runs++;
            var value = int.Parse(await stm.GetAsync(Account(0), ct) ?? "0", CultureInfo.InvariantCulture);
            await other.Kv.PutAsync(Account(0), (value + 1).ToString(CultureInfo.InvariantCulture), cancellationToken: ct); // someone else always wins
            stm.Put(Account(0), "0");
        }, new StmOptions { MaxAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(1) }, Ct));

        Assert.Equal(3, error.Attempts);
        Assert.Equal(3, runs);
        Assert.Equal("4", await Client.Kv.GetStringAsync(Account(0), Ct));
    }

    [Fact]
    public async Task The_back_off_between_attempts_runs_on_the_injected_clock()
    {
        await Client.Kv.PutAsync(Account(0), "1", cancellationToken: Ct);
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var recipes = CoordinationConcurrency.Create(Client, clock);
        var other = NewClient();
        var runs = 0;

        var run = recipes.RunStmAsync(async (stm, ct) =>
        {
            Interlocked.Increment(ref runs);
            await stm.GetAsync(Account(0), ct);
            await other.Kv.PutAsync(Account(0), "changed", cancellationToken: ct);
            stm.Put(Account(0), "mine");
        }, new StmOptions { MaxAttempts = 2, InitialBackoff = TimeSpan.FromMinutes(10), MaxBackoff = TimeSpan.FromMinutes(10) }, Ct);
        for (var i = 0; i < 100 && Volatile.Read(ref runs) == 0; i++)
        {
            await Task.Delay(20, Ct);
        }

        await Task.WhenAny(run, Task.Delay(300, Ct));
        Assert.False(run.IsCompleted); // backing off: at least 5 minutes on the fake clock
        Assert.Equal(1, Volatile.Read(ref runs));

        clock.Advance(TimeSpan.FromMinutes(10));

        await Assert.ThrowsAsync<StmConflictException>(() => run.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.Equal(2, runs);
    }

    [Fact]
    public async Task Serializable_snapshot_reads_one_revision_while_repeatable_reads_sees_later_commits()
    {
        await Client.Kv.PutAsync(Account(0), "a1", cancellationToken: Ct);
        await Client.Kv.PutAsync(Account(1), "b1", cancellationToken: Ct);

        async Task<string?> SecondReadAsync(StmIsolation isolation, string bump)
        {
            string? seen = null;
            var firstRun = true;
            await Recipes.RunStmAsync(async (stm, ct) =>
            {
                await stm.GetAsync(Account(0), ct);
                if (firstRun)
                {
                    firstRun = false;
                    await Client.Kv.PutAsync(Account(1), bump, cancellationToken: ct);
                    seen = await stm.GetAsync(Account(1), ct);
                }
            }, new StmOptions { Isolation = isolation }, Ct);
            return seen;
        }

        Assert.Equal("b1", await SecondReadAsync(StmIsolation.SerializableSnapshot, "b2"));
        Assert.Equal("b3", await SecondReadAsync(StmIsolation.RepeatableReads, "b3"));
    }

    [Fact]
    public async Task Prefetched_keys_are_read_before_the_function_and_checked_at_commit()
    {
        await Client.Kv.PutAsync(Account(0), "before", cancellationToken: Ct);
        var seen = new List<string?>();

        var result = await Recipes.RunStmAsync(async (stm, ct) =>
        {
            if (seen.Count == 0)
            {
                await Client.Kv.PutAsync(Account(0), "changed", cancellationToken: ct); // after the prefetch
            }

            seen.Add(await stm.GetAsync(Account(0), ct));
            stm.Put(Account(1), "done");
        }, new StmOptions { Isolation = StmIsolation.Serializable, Prefetch = [Account(0)] }, Ct);

        Assert.Equal(["before", "changed"], seen); // the first run saw the prefetch, which then conflicted
        Assert.Equal(2, result.Attempts);
    }

    [Fact]
    public async Task Own_writes_are_visible_and_deletes_apply_atomically()
    {
        await Client.Kv.PutAsync(Account(0), "x", cancellationToken: Ct);

        await Recipes.RunStmAsync(async (stm, ct) =>
        {
            stm.Put(Account(1), "y");
            Assert.Equal("y", await stm.GetAsync(Account(1), ct));
            stm.Delete(Account(0));
            Assert.Null(await stm.GetAsync(Account(0), ct));
        }, cancellationToken: Ct);

        Assert.Null(await Client.Kv.GetAsync(Account(0), cancellationToken: Ct));
        Assert.Equal("y", await Client.Kv.GetStringAsync(Account(1), Ct));
    }

    [Fact]
    public async Task Cancellation_stops_the_transaction_without_committing()
    {
        using var cancel = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Recipes.RunStmAsync(async (stm, ct) =>
        {
            stm.Put(Account(0), "never");
            await cancel.CancelAsync();
            ct.ThrowIfCancellationRequested();
        }, cancellationToken: cancel.Token));

        Assert.Null(await Client.Kv.GetAsync(Account(0), cancellationToken: Ct));
    }

    private string Account(int i) => $"{Name}/account/{i}";

    private async Task SeedAccountsAsync(int count, int initial)
    {
        for (var i = 0; i < count; i++)
        {
            await Client.Kv.PutAsync(Account(i), initial.ToString(CultureInfo.InvariantCulture), cancellationToken: Ct);
        }
    }

    private async Task<int> TotalAsync(int count)
    {
        var total = 0;
        for (var i = 0; i < count; i++)
        {
            total += int.Parse(await Client.Kv.GetStringAsync(Account(i), Ct) ?? "0", CultureInfo.InvariantCulture);
        }

        return total;
    }

    private static async Task TransferAsync(IStm stm, string from, string to, int amount, CancellationToken ct)
    {
        var source = int.Parse(await stm.GetAsync(from, ct) ?? "0", CultureInfo.InvariantCulture);
        var target = int.Parse(await stm.GetAsync(to, ct) ?? "0", CultureInfo.InvariantCulture);
        stm.Put(from, (source - amount).ToString(CultureInfo.InvariantCulture));
        stm.Put(to, (target + amount).ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Two transfers of 10 out of account 0 (to 1 and to 2), forced to interleave on their first run:
    /// each reads both of its accounts, then waits until the other has read too, then commits.
    /// </summary>
    private async Task<((int Total, int Source) Outcome, StmResult First, StmResult Second)> RunTwoInterleavedTransfersAsync(StmIsolation isolation)
    {
        await SeedAccountsAsync(3, 100);
        var arrived = 0;
        var bothRead = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = new StmOptions { Isolation = isolation, MaxAttempts = 5 };

        Task<StmResult> Transfer(int to) => Task.Run(() =>
        {
            var firstRun = true;
            return Recipes.RunStmAsync(async (stm, ct) =>
            {
                await TransferAsync(stm, Account(0), Account(to), 10, ct);
                if (firstRun)
                {
                    firstRun = false;
                    if (Interlocked.Increment(ref arrived) == 2)
                    {
                        bothRead.TrySetResult();
                    }

                    await bothRead.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
                }
            }, options, Ct);
        }, Ct);

        var results = await Task.WhenAll(Transfer(1), Transfer(2));
        var source = int.Parse(await Client.Kv.GetStringAsync(Account(0), Ct) ?? "0", CultureInfo.InvariantCulture);
        return ((await TotalAsync(3), source), results[0], results[1]);
    }
}

[Collection(EtcdCollection.Name)]
public sealed class StmOnEtcd(EtcdTarget target) : StmContract(target);

[Collection(CoordinationCollection.Name)]
public sealed class StmOnCoordination(CoordinationTarget target) : StmContract(target);
