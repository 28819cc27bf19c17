using Coordination.Server.Mvcc;
using Google.Protobuf;

namespace Coordination.Server.Lease;

/// <summary>
/// The replicated lease table: which leases exist, their granted TTL and the keys attached to
/// them. Changed only by applied proposals (on the apply thread), so every member holds the same
/// table; read from any thread (services ask for TTLs, keys and lists), hence the lock. Expiry
/// scheduling (a leader-local, clock-driven concern) lives outside this type and hears of grants
/// and revocations through <see cref="Observer"/>.
/// </summary>
internal sealed class Lessor : ILeaseAttachments
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, LeaseRecord> _leases = new();

    /// <summary>Told of every grant and revocation, on the apply thread, after the table changed. Set once, at composition.</summary>
    public ILeaseLifecycleObserver? Observer { get; set; }

    /// <summary>Number of leases.</summary>
    public int Count
    {
        get { lock (_gate) return _leases.Count; }
    }

    /// <inheritdoc />
    public bool Exists(long leaseId)
    {
        lock (_gate) return _leases.ContainsKey(leaseId);
    }

    /// <summary>The granted TTL of a lease in seconds, or null when it does not exist.</summary>
    public long? GrantedTtl(long leaseId)
    {
        lock (_gate) return _leases.TryGetValue(leaseId, out var lease) ? lease.TtlSeconds : null;
    }

    /// <summary>A copy of the keys attached to a lease, in byte order; null when it does not exist.</summary>
    public IReadOnlyList<ByteString>? KeysOf(long leaseId)
    {
        lock (_gate)
        {
            if (!_leases.TryGetValue(leaseId, out var lease)) return null;
            var keys = lease.Keys.ToList();
            keys.Sort(KeyComparer.Compare);
            return keys;
        }
    }

    /// <summary>A copy of every lease's (id, granted TTL), in id order.</summary>
    public IReadOnlyList<(long Id, long TtlSeconds)> All()
    {
        lock (_gate) return _leases.Values.OrderBy(l => l.Id).Select(l => (l.Id, l.TtlSeconds)).ToList();
    }

    /// <summary>Adds a lease; false when the id is taken.</summary>
    public bool Grant(long id, long ttlSeconds)
    {
        lock (_gate)
        {
            if (!_leases.TryAdd(id, new LeaseRecord(id, ttlSeconds))) return false;
        }
        Observer?.Granted(id, ttlSeconds);
        return true;
    }

    /// <summary>Removes a lease; false when it does not exist.</summary>
    public bool Revoke(long id)
    {
        lock (_gate)
        {
            if (!_leases.Remove(id)) return false;
        }
        Observer?.Revoked(id);
        return true;
    }

    /// <inheritdoc />
    public void Attach(long leaseId, ByteString key)
    {
        lock (_gate)
        {
            if (_leases.TryGetValue(leaseId, out var lease)) lease.Keys.Add(key);
        }
    }

    /// <inheritdoc />
    public void Detach(long leaseId, ByteString key)
    {
        lock (_gate)
        {
            if (_leases.TryGetValue(leaseId, out var lease)) lease.Keys.Remove(key);
        }
    }

    /// <summary>One lease: its id, granted TTL in seconds, and attached keys.</summary>
    private sealed record LeaseRecord(long Id, long TtlSeconds)
    {
        /// <summary>The keys carrying this lease.</summary>
        public HashSet<ByteString> Keys { get; } = new();
    }
}
