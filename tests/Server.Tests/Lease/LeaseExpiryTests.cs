using Coordination.Server.Errors;
using Coordination.Server.Lease;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Server.Tests.Lease;

/// <summary>The leader-local expiry schedule on a fake clock, with a recording revoke in place of the write path.</summary>
public sealed class LeaseExpiryTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly LeaseExpiry _expiry;
    private readonly List<long> _revoked = [];
    private Func<long, Task> _revokeOutcome = _ => Task.CompletedTask;

    public LeaseExpiryTests()
    {
        _expiry = new LeaseExpiry(_time, TimeSpan.FromMilliseconds(500), NullLogger<LeaseExpiry>.Instance);
    }

    public ValueTask DisposeAsync() => _expiry.DisposeAsync();

    private void Start() => _expiry.Start((id, _) =>
    {
        lock (_revoked) _revoked.Add(id);
        return _revokeOutcome(id);
    });

    private long[] Revoked()
    {
        lock (_revoked) return [.. _revoked];
    }

    [Fact]
    public void A_lease_is_revoked_once_after_its_ttl_and_not_before()
    {
        Start();
        _expiry.Granted(7, 10);
        _time.Advance(TimeSpan.FromSeconds(9.5));
        Assert.Empty(Revoked());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([7L], Revoked());
        // Until the revocation is applied the lease stays scheduled, but is proposed only once.
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal([7L], Revoked());
        Assert.Null(_expiry.Renew(7));
    }

    [Fact]
    public void Keep_alive_moves_the_deadline_to_now_plus_ttl()
    {
        Start();
        _expiry.Granted(7, 10);
        _time.Advance(TimeSpan.FromSeconds(8));
        Assert.Equal(10, _expiry.Renew(7));
        Assert.Equal(TimeSpan.FromSeconds(10), _expiry.Remaining(7));
        _time.Advance(TimeSpan.FromSeconds(9.5));
        Assert.Empty(Revoked());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([7L], Revoked());
    }

    [Fact]
    public void Start_gives_every_known_lease_its_full_ttl_again()
    {
        // Leases learnt before start (snapshot, log replay) while time passed.
        _expiry.Granted(1, 10);
        _expiry.Granted(2, 30);
        _time.Advance(TimeSpan.FromSeconds(9));
        Start();
        Assert.Equal(TimeSpan.FromSeconds(10), _expiry.Remaining(1));
        Assert.Equal(TimeSpan.FromSeconds(30), _expiry.Remaining(2));
        _time.Advance(TimeSpan.FromSeconds(9.5));
        Assert.Empty(Revoked());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal([1L], Revoked());
        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal([1L, 2L], Revoked());
    }

    [Fact]
    public void A_revoked_lease_leaves_the_schedule_and_cannot_be_renewed()
    {
        Start();
        _expiry.Granted(7, 10);
        _expiry.Revoked(7);
        Assert.Null(_expiry.Renew(7));
        Assert.Null(_expiry.Remaining(7));
        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.Empty(Revoked());
        Assert.Equal(0, _expiry.Count);
    }

    [Fact]
    public void Nothing_is_proposed_before_start()
    {
        _expiry.Granted(7, 2);
        _time.Advance(TimeSpan.FromSeconds(20));
        _expiry.CheckExpired();
        Assert.Empty(Revoked());
    }

    [Fact]
    public void A_failed_revocation_is_retried_and_lease_not_found_is_not()
    {
        var failures = 1;
        _revokeOutcome = id => id == 7 && failures-- > 0
            ? Task.FromException(EtcdErrors.Timeout.ToException())
            : id == 8 ? Task.FromException(EtcdErrors.LeaseNotFound.ToException()) : Task.CompletedTask;
        Start();
        _expiry.Granted(7, 5);
        _expiry.Granted(8, 5);
        _time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Empty(Revoked());
        _time.Advance(TimeSpan.FromSeconds(0.1)); // the check at exactly the deadline
        Assert.Equal([7L, 8L], Revoked().Order());
        _time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.Equal([7L, 7L, 8L], Revoked().Order());
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal([7L, 7L, 8L], Revoked().Order());
    }

    [Fact]
    public void Remaining_counts_down_on_the_clock()
    {
        Start();
        _expiry.Granted(7, 60);
        _time.Advance(TimeSpan.FromSeconds(15.25));
        Assert.Equal(TimeSpan.FromSeconds(44.75), _expiry.Remaining(7));
    }
}
