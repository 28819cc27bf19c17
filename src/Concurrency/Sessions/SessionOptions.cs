namespace Coordination.Concurrency;

/// <summary>How a session gets its lease.</summary>
public sealed record SessionOptions
{
    /// <summary>The default time to live, as in etcd's concurrency package.</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromSeconds(60);

    /// <summary>Time to live of the lease granted for the session (whole seconds, at least one). Default 60 s.</summary>
    public TimeSpan Ttl { get; init; } = DefaultTtl;

    /// <summary>
    /// An existing lease to adopt instead of granting one (0: grant). The session keeps it alive and
    /// revokes it when closed, like a session that granted it.
    /// </summary>
    public long LeaseId { get; init; }
}
