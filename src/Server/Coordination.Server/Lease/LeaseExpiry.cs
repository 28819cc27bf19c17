using Coordination.Server.Errors;

namespace Coordination.Server.Lease;

/// <summary>
/// The leader-local expiry schedule: each lease's deadline on an injected <see cref="TimeProvider"/>.
/// Not replicated state. A grant sets deadline = now + TTL, a keep-alive renews it, and on
/// <see cref="Start"/> (start-up, or becoming leader) every lease gets now + its full TTL, so
/// remaining TTLs are extended, never shortened. A lease past its deadline is not removed here:
/// a periodic check proposes its revocation through the one write path, and the lease leaves the
/// schedule only when the applied revocation reaches <see cref="Revoked"/>.
/// </summary>
internal sealed class LeaseExpiry : ILeaseLifecycleObserver, IAsyncDisposable
{
    /// <summary>How often deadlines are checked (etcd checks every 500 ms as well).</summary>
    public static readonly TimeSpan DefaultCheckInterval = TimeSpan.FromMilliseconds(500);

    private readonly TimeProvider _time;
    private readonly TimeSpan _checkInterval;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<long, Schedule> _leases = new();
    // Deadlines in time order; an entry is stale when its lease was renewed or removed since.
    private readonly PriorityQueue<long, DateTimeOffset> _queue = new();
    private readonly CancellationTokenSource _stopping = new();
    private Func<long, CancellationToken, Task>? _revoke;
    private ITimer? _timer;

    /// <summary>A schedule on <paramref name="time"/>; it proposes nothing until <see cref="Start"/>.</summary>
    public LeaseExpiry(TimeProvider time, TimeSpan checkInterval, ILogger<LeaseExpiry> logger)
    {
        _time = time;
        _checkInterval = checkInterval;
        _logger = logger;
    }

    /// <summary>Number of leases in the schedule.</summary>
    public int Count
    {
        get { lock (_gate) return _leases.Count; }
    }

    /// <inheritdoc />
    public void Granted(long leaseId, long ttlSeconds)
    {
        lock (_gate)
        {
            var deadline = _time.GetUtcNow() + TimeSpan.FromSeconds(ttlSeconds);
            _leases[leaseId] = new Schedule(ttlSeconds) { Deadline = deadline };
            _queue.Enqueue(leaseId, deadline);
        }
    }

    /// <inheritdoc />
    public void Revoked(long leaseId)
    {
        lock (_gate) _leases.Remove(leaseId);
    }

    /// <summary>
    /// Starts expiring: every lease known so far gets now + its full TTL, then deadlines are checked
    /// every check interval, and each expired lease is handed once to <paramref name="revoke"/>
    /// (which must propose its revocation; "lease not found" counts as done, other failures are retried).
    /// </summary>
    public void Start(Func<long, CancellationToken, Task> revoke)
    {
        lock (_gate)
        {
            if (_revoke is not null) throw new InvalidOperationException("The expiry schedule is already started.");
            _revoke = revoke;
            var now = _time.GetUtcNow();
            _queue.Clear();
            foreach (var (id, schedule) in _leases)
            {
                schedule.Deadline = now + TimeSpan.FromSeconds(schedule.TtlSeconds);
                _queue.Enqueue(id, schedule.Deadline);
            }
        }
        _timer = _time.CreateTimer(_ => CheckExpired(), null, _checkInterval, _checkInterval);
    }

    /// <summary>
    /// Renews a lease (deadline = now + TTL) and returns its TTL; null when the lease is unknown or
    /// already past its deadline (its revocation is pending, so it must not come back to life).
    /// </summary>
    public long? Renew(long leaseId)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (!_leases.TryGetValue(leaseId, out var schedule) || schedule.Deadline <= now) return null;
            schedule.Deadline = now + TimeSpan.FromSeconds(schedule.TtlSeconds);
            _queue.Enqueue(leaseId, schedule.Deadline);
            return schedule.TtlSeconds;
        }
    }

    /// <summary>
    /// Gives every lease its full TTL again from now (a member that just became leader: keep-alives
    /// went to the previous leader, so this member's deadlines say nothing; etcd does the same).
    /// </summary>
    public void RenewAll()
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            foreach (var (leaseId, schedule) in _leases)
            {
                schedule.Deadline = now + TimeSpan.FromSeconds(schedule.TtlSeconds);
                _queue.Enqueue(leaseId, schedule.Deadline);
            }
        }
    }

    /// <summary>Time left before the lease's deadline (negative once past it), or null when unknown.</summary>
    public TimeSpan? Remaining(long leaseId)
    {
        lock (_gate) return _leases.TryGetValue(leaseId, out var schedule) ? schedule.Deadline - _time.GetUtcNow() : null;
    }

    /// <summary>Proposes the revocation of every lease past its deadline that is not already being revoked.</summary>
    internal void CheckExpired()
    {
        List<long>? expired = null;
        Func<long, CancellationToken, Task>? revoke;
        lock (_gate)
        {
            revoke = _revoke;
            if (revoke is null) return;
            var now = _time.GetUtcNow();
            while (_queue.TryPeek(out var id, out var when) && when <= now)
            {
                _queue.Dequeue();
                if (_leases.TryGetValue(id, out var schedule) && schedule.Deadline <= now && !schedule.Revoking)
                {
                    schedule.Revoking = true;
                    (expired ??= []).Add(id);
                }
            }
        }
        if (expired is null) return;
        foreach (var id in expired) _ = RevokeAsync(revoke, id);
    }

    private async Task RevokeAsync(Func<long, CancellationToken, Task> revoke, long leaseId)
    {
        try
        {
            await revoke(leaseId, _stopping.Token).ConfigureAwait(false);
            return;
        }
        catch (EtcdException ex) when (ex.Error == EtcdErrors.LeaseNotFound)
        {
            // Revoked meanwhile by a client: nothing left to do.
            return;
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "could not revoke expired lease {LeaseId:x}: {Message}; retrying", leaseId, ex.Message);
        }
        lock (_gate)
        {
            // Still there: try again at the next check.
            if (_leases.TryGetValue(leaseId, out var schedule))
            {
                schedule.Revoking = false;
                _queue.Enqueue(leaseId, schedule.Deadline);
            }
        }
    }

    /// <summary>Stops checking; revocations in flight are abandoned (the next leader expires those leases).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_timer is not null) await _timer.DisposeAsync().ConfigureAwait(false);
        await _stopping.CancelAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private sealed class Schedule(long ttlSeconds)
    {
        public long TtlSeconds { get; } = ttlSeconds;

        public DateTimeOffset Deadline { get; set; }

        public bool Revoking { get; set; }
    }
}
