using Coordination.Server.Errors;
using Coordination.Server.Mvcc;
using Etcdserverpb;

namespace Coordination.Server.Lease;

/// <summary>
/// Applies committed lease proposals to the lease table and the store (apply thread only): grants
/// and revocations, where a revocation deletes every attached key in one write transaction, so
/// the deletions share one revision and watchers see them together.
/// </summary>
internal sealed class LeaseApplier
{
    private readonly MvccStore _store;
    private readonly Lessor _lessor;
    private readonly long _minTtlSeconds;

    /// <summary>An applier over <paramref name="store"/> and <paramref name="lessor"/>; TTLs below <paramref name="minTtlSeconds"/> are raised to it.</summary>
    public LeaseApplier(MvccStore store, Lessor lessor, long minTtlSeconds)
    {
        _store = store;
        _lessor = lessor;
        _minTtlSeconds = minTtlSeconds;
    }

    /// <summary>
    /// Grants the lease with the (already chosen, non-zero) id. LeaseNotFound for id 0,
    /// LeaseTtlTooLarge above the maximum, LeaseExists when the id is taken.
    /// </summary>
    public LeaseGrantResponse Grant(LeaseGrantRequest request)
    {
        if (request.ID == 0) throw EtcdErrors.LeaseNotFound.ToException();
        if (request.TTL > LeaseLimits.MaxTtlSeconds) throw EtcdErrors.LeaseTtlTooLarge.ToException();
        var ttl = Math.Max(request.TTL, _minTtlSeconds);
        if (!_lessor.Grant(request.ID, ttl)) throw EtcdErrors.LeaseExists.ToException();
        return new LeaseGrantResponse { ID = request.ID, TTL = ttl, Header = new ResponseHeader { Revision = _store.Revision } };
    }

    /// <summary>
    /// Deletes every key attached to the lease in one revision (none when no key is attached),
    /// then removes the lease. LeaseNotFound when it does not exist.
    /// </summary>
    public LeaseRevokeResponse Revoke(LeaseRevokeRequest request)
    {
        var keys = _lessor.KeysOf(request.ID) ?? throw EtcdErrors.LeaseNotFound.ToException();
        if (keys.Count > 0)
        {
            MvccCommit commit;
            using (var txn = _store.BeginWrite())
            {
                foreach (var key in keys) txn.DeleteRange(KeyRange.Single(key));
                commit = txn.End();
            }
            foreach (var change in commit.LeaseChanges)
            {
                if (change.Attached) _lessor.Attach(change.LeaseId, change.Key);
                else _lessor.Detach(change.LeaseId, change.Key);
            }
        }
        _lessor.Revoke(request.ID);
        return new LeaseRevokeResponse { Header = new ResponseHeader { Revision = _store.Revision } };
    }

    /// <summary>
    /// Checkpoints of remaining TTLs are accepted and ignored: this server never proposes them,
    /// because a new leader extends every lease to its full TTL (TTLs are extended, never shortened).
    /// </summary>
    public LeaseCheckpointResponse Checkpoint(LeaseCheckpointRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new LeaseCheckpointResponse { Header = new ResponseHeader { Revision = _store.Revision } };
    }
}
