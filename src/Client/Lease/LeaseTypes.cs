using Coordination.Client.Kv;

namespace Coordination.Client.Lease;

/// <summary>A granted lease.</summary>
/// <param name="Id">The lease ID.</param>
/// <param name="TtlSeconds">The TTL the server granted, in seconds.</param>
/// <param name="Header">Revision and member that answered.</param>
public sealed record LeaseGrantResult(long Id, long TtlSeconds, ResponseHeader Header);

/// <summary>A lease's remaining time.</summary>
/// <param name="Id">The lease ID.</param>
/// <param name="TtlSeconds">Seconds left; -1 when the lease does not exist (expired or revoked).</param>
/// <param name="GrantedTtlSeconds">The TTL it was granted with.</param>
/// <param name="Keys">Keys attached to it, when asked for.</param>
public sealed record LeaseTimeToLiveResult(long Id, long TtlSeconds, long GrantedTtlSeconds, IReadOnlyList<ReadOnlyMemory<byte>> Keys);

/// <summary>
/// A lease kept alive by the client's shared keep-alive stream (renewed at about a third of its TTL).
/// <see cref="LeaseLost"/> fires when the server reports the lease gone, or when no renewal succeeded
/// before the local deadline (last renewal + TTL); from then on the keys attached to it must be
/// assumed deleted. Disposing stops the renewals (the lease then expires on its own); it does not revoke.
/// </summary>
public interface ILeaseKeepAlive : IAsyncDisposable
{
    /// <summary>The lease ID.</summary>
    long LeaseId { get; }

    /// <summary>The TTL granted, in seconds.</summary>
    long TtlSeconds { get; }

    /// <summary>Cancelled when the lease is lost or could not be renewed before its deadline.</summary>
    CancellationToken LeaseLost { get; }

    /// <summary>When the lease expires unless renewed again (client clock).</summary>
    DateTimeOffset Deadline { get; }
}

/// <summary>Leases: grant, revoke, time-to-live, list, and keep-alive of many leases over one stream.</summary>
public interface ILeaseClient
{
    /// <summary>Grants a lease of <paramref name="ttlSeconds"/> (with the given <paramref name="id"/>, or a server-chosen one when 0).</summary>
    Task<LeaseGrantResult> GrantAsync(long ttlSeconds, long id = 0, CancellationToken cancellationToken = default);

    /// <summary>Revokes a lease and deletes its keys.</summary>
    Task RevokeAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>Time left on a lease.</summary>
    Task<LeaseTimeToLiveResult> TimeToLiveAsync(long id, bool keys = false, CancellationToken cancellationToken = default);

    /// <summary>IDs of every live lease.</summary>
    Task<IReadOnlyList<long>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Renews a lease once; returns the new TTL in seconds (throws <see cref="EtcdLeaseNotFoundException"/> when it is gone).</summary>
    Task<long> KeepAliveOnceAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>Starts keeping an existing lease alive on the shared stream.</summary>
    Task<ILeaseKeepAlive> KeepAliveAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>Grants a lease and keeps it alive.</summary>
    Task<ILeaseKeepAlive> GrantAndKeepAliveAsync(long ttlSeconds, CancellationToken cancellationToken = default);
}
