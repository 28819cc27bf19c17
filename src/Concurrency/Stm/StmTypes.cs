namespace Coordination.Concurrency;

/// <summary>Isolation levels of software transactional memory, as in etcd's <c>concurrency.STM</c>.</summary>
public enum StmIsolation
{
    /// <summary>
    /// All reads come from the revision of the first read (a snapshot); the commit fails if any key read
    /// changed, or any key written was modified, after that revision. The strongest level.
    /// </summary>
    SerializableSnapshot,

    /// <summary>All reads come from the revision of the first read; the commit fails if any key read has changed since.</summary>
    Serializable,

    /// <summary>Each key is read once, at the latest revision, and cached; the commit fails if any key read has changed since.</summary>
    RepeatableReads,

    /// <summary>Every read sees the latest committed value; the commit checks nothing (lost updates are possible).</summary>
    ReadCommitted,
}

/// <summary>How an STM transaction runs.</summary>
public sealed record StmOptions
{
    /// <summary>The isolation level; default <see cref="StmIsolation.SerializableSnapshot"/>, as in etcd.</summary>
    public StmIsolation Isolation { get; init; } = StmIsolation.SerializableSnapshot;

    /// <summary>Keys read in one request before the function runs (cached for the levels that cache reads).</summary>
    public IReadOnlyList<string> Prefetch { get; init; } = [];

    /// <summary>How many times the function may run before <see cref="StmConflictException"/> (at least 1). Default 32.</summary>
    public int MaxAttempts { get; init; } = 32;

    /// <summary>Back-off before the second attempt; doubled for each further one, with jitter. Default 5 ms.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Upper bound of the back-off. Default 500 ms.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Seed of the back-off jitter (null: a random seed).</summary>
    public int? JitterSeed { get; init; }
}

/// <summary>
/// A transactional view of the key space, handed to the function an STM transaction runs. Valid only
/// during that run, and not thread-safe: call it from the function, one call at a time.
/// </summary>
public interface IStm
{
    /// <summary>The key's value as this transaction sees it (its own writes included), or null when absent.</summary>
    Task<string?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>The mod revision of the key as read by this transaction (0 when absent).</summary>
    Task<long> GetModRevisionAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Buffers a write, applied atomically at commit.</summary>
    void Put(string key, string value, long lease = 0);

    /// <summary>Buffers a delete, applied atomically at commit.</summary>
    void Delete(string key);
}

/// <summary>The outcome of a committed STM transaction.</summary>
/// <param name="Revision">The revision of the commit.</param>
/// <param name="Attempts">How many times the function ran (1 when there was no conflict).</param>
public sealed record StmResult(long Revision, int Attempts);
