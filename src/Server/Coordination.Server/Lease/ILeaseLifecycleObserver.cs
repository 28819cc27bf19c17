namespace Coordination.Server.Lease;

/// <summary>
/// Hears of leases appearing and disappearing in the replicated table (on the apply thread, in log
/// order): how the leader-local expiry schedule follows the table without being part of it.
/// </summary>
internal interface ILeaseLifecycleObserver
{
    /// <summary>A lease with this id and granted TTL (seconds) now exists.</summary>
    void Granted(long leaseId, long ttlSeconds);

    /// <summary>The lease no longer exists (revoked by a client or by expiry).</summary>
    void Revoked(long leaseId);
}
