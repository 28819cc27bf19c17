using Etcdserverpb;

namespace Coordination.Server.Concurrency;

/// <summary>
/// The lease a lock or campaign runs under: the caller's, or (lease 0) a fresh one of
/// <see cref="DefaultTtlSeconds"/> that nobody keeps alive, as etcd's server-side session does.
/// </summary>
internal static class SessionLease
{
    /// <summary>etcd's default session TTL.</summary>
    public const long DefaultTtlSeconds = 60;

    /// <summary>The lease id to use for <paramref name="requested"/>.</summary>
    public static async Task<long> ResolveAsync(IConcurrencyStore store, long requested, CancellationToken cancellationToken)
    {
        if (requested != 0) return requested;
        var grant = await store.LeaseGrantAsync(new LeaseGrantRequest { TTL = DefaultTtlSeconds }, cancellationToken).ConfigureAwait(false);
        return grant.ID;
    }
}
