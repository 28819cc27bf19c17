namespace Coordination.Integration.Tests.Scenarios;

/// <summary>Negative controls for <see cref="GrantLog"/>, the lock and election workloads' exclusivity check.</summary>
public sealed class GrantLogCheckTests
{
    [Fact]
    public void Two_holders_at_once_are_reported()
    {
        var log = new GrantLog("lock");
        log.Granted("lock/a", 10, CancellationToken.None);
        log.Granted("lock/b", 11, CancellationToken.None);
        Assert.Contains(log.Violations, v => v.Contains("while lock/a (token 10) still held it", StringComparison.Ordinal));
    }

    [Fact]
    public void A_token_that_does_not_increase_is_reported()
    {
        var log = new GrantLog("lock");
        log.Released(log.Granted("lock/a", 10, CancellationToken.None));
        log.Released(log.Granted("lock/b", 9, CancellationToken.None));
        Assert.Contains(log.Violations, v => v.Contains("token 9 granted after 10", StringComparison.Ordinal));
    }

    [Fact]
    public void Hand_overs_in_order_and_a_holder_reacquiring_its_own_key_are_not_violations()
    {
        var log = new GrantLog("lock");
        log.Released(log.Granted("lock/a", 10, CancellationToken.None));
        log.Released(log.Granted("lock/a", 10, CancellationToken.None)); // release failed, same session locked again
        log.Released(log.Granted("lock/b", 12, CancellationToken.None));
        Assert.Empty(log.Violations);
        Assert.Equal(3, log.Count);
    }

    [Fact]
    public void A_grant_after_the_holder_lost_its_session_is_not_a_violation()
    {
        var log = new GrantLog("lock");
        using var lost = new CancellationTokenSource();
        log.Granted("lock/a", 10, lost.Token);
        lost.Cancel();
        log.Granted("lock/b", 11, CancellationToken.None);
        Assert.Empty(log.Violations);
    }
}
