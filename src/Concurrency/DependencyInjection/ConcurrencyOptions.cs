namespace Coordination.Concurrency;

/// <summary>Options of the concurrency services registered by <c>AddCoordinationConcurrency</c>.</summary>
public sealed class ConcurrencyOptions
{
    /// <summary>TTL of the session behind each <see cref="DistributedLocking.IDistributedLockProvider"/> acquisition. Default 60 s.</summary>
    public TimeSpan SessionTtl { get; set; } = SessionOptions.DefaultTtl;

    /// <summary>Prepended to lock names of <see cref="DistributedLocking.IDistributedLockProvider"/>. Default empty, so a name is used as is (as <c>etcdctl lock</c> does).</summary>
    public string LockPrefix { get; set; } = string.Empty;
}
