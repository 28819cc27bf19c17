using Coordination.Concurrency.Locking;
using Coordination.Concurrency.Tests.Fixtures;

namespace Coordination.Concurrency.Tests.Safety;

public abstract class LockSafetyContract(ConcurrencyTarget target) : TargetTestBase(target)
{
    [Fact]
    public async Task Under_killed_sessions_fencing_tokens_increase_and_no_update_is_lost()
    {
        var torture = new LockTorture(NewClient, Name, (session, name) => new CoordinationMutex(session, name, TimeProvider.System), new TortureOptions { Grants = 300 });

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await torture.RunAsync(Ct);

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{Target.Kind}: {torture.Checker.Grants} grants, {torture.Checker.Increments} fenced increments, {torture.SessionsExpiredWhileWaiting} waiters refused after their session died, {torture.Crashes} holders crashed, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Empty(torture.Checker.Violations);
        Assert.True(torture.Checker.Grants >= 300, $"only {torture.Checker.Grants} grants within the time limit");
        Assert.True(torture.SessionsExpiredWhileWaiting > 0, "no waiter's session was killed: the fault never happened");
        Assert.True(torture.Crashes > 0, "no holder crashed: the fault never happened");
        Assert.True(torture.Checker.Increments > 200);
    }

    [Fact]
    public async Task A_mutex_that_skips_the_ownership_recheck_is_caught_by_the_checker()
    {
        // Negative control: the same run with a mutex that does not confirm its key after waiting.
        var torture = new LockTorture(
            NewClient,
            Name,
            (session, name) => new CoordinationMutex(session, name, TimeProvider.System, confirmOwnershipAfterWait: false),
            new TortureOptions { Grants = 150, RevokeSuccessor = 0.5, CrashRevoke = 0, CrashStopKeepAlive = 0, TimeLimit = TimeSpan.FromSeconds(40) });

        await torture.RunAsync(Ct);

        TestContext.Current.TestOutputHelper?.WriteLine($"{Target.Kind}, broken mutex: {torture.Checker.Violations.Count} violations, e.g. {torture.Checker.Violations.FirstOrDefault()}");
        Assert.NotEmpty(torture.Checker.Violations);
    }
}

[Collection(EtcdCollection.Name)]
public sealed class LockSafetyOnEtcd(EtcdTarget target) : LockSafetyContract(target);

[Collection(CoordinationCollection.Name)]
public sealed class LockSafetyOnCoordination(CoordinationTarget target) : LockSafetyContract(target);
