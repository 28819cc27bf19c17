using Google.Protobuf;

namespace Coordination.Server.Lease;

/// <summary>
/// The replicated lease table: which leases exist, their granted TTL and the keys attached to
/// them. Changed only by applied proposals, so every member holds the same table. Expiry
/// scheduling (a leader-local, clock-driven concern) lives outside this type.
/// </summary>
internal sealed class Lessor : ILeaseAttachments
{
    private readonly Dictionary<long, LeaseRecord> _leases = new();

    /// <summary>Number of leases.</summary>
    public int Count => _leases.Count;

    /// <inheritdoc />
    public bool Exists(long leaseId) => _leases.ContainsKey(leaseId);

    /// <summary>The lease with this id, or null.</summary>
    public LeaseRecord? Find(long leaseId) => _leases.GetValueOrDefault(leaseId);

    /// <summary>All leases, in id order.</summary>
    public IEnumerable<LeaseRecord> All() => _leases.Values.OrderBy(l => l.Id);

    /// <summary>Adds a lease; false when the id is taken.</summary>
    public bool Grant(long id, long ttlSeconds)
    {
        if (_leases.ContainsKey(id)) return false;
        _leases[id] = new LeaseRecord(id, ttlSeconds);
        return true;
    }

    /// <summary>Removes a lease and returns the keys that were attached to it (null when unknown).</summary>
    public IReadOnlyCollection<ByteString>? Revoke(long id)
    {
        if (!_leases.Remove(id, out var lease)) return null;
        return lease.Keys;
    }

    /// <inheritdoc />
    public void Attach(long leaseId, ByteString key)
    {
        if (_leases.TryGetValue(leaseId, out var lease)) lease.Keys.Add(key);
    }

    /// <inheritdoc />
    public void Detach(long leaseId, ByteString key)
    {
        if (_leases.TryGetValue(leaseId, out var lease)) lease.Keys.Remove(key);
    }
}

/// <summary>One lease: its id, granted TTL in seconds, and attached keys.</summary>
internal sealed record LeaseRecord(long Id, long TtlSeconds)
{
    /// <summary>The keys carrying this lease.</summary>
    public HashSet<ByteString> Keys { get; } = new();
}
