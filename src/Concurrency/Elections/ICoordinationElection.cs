namespace Coordination.Concurrency;

/// <summary>
/// Leader election with etcd's algorithm and key layout, so Go programs using etcd's
/// <c>concurrency.Election</c> (and <c>etcdctl elect</c>) on the same name see our leader and we
/// see theirs. Each candidate owns <c>&lt;name&gt;/&lt;lease id in hex&gt;</c>, its value being the
/// proposal; the leader is the candidate with the lowest create revision.
/// </summary>
public interface ICoordinationElection
{
    /// <summary>The election's name (its keys live under <c>Name + "/"</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Puts our candidacy with <paramref name="value"/> and waits until we lead. Throws
    /// <see cref="SessionExpiredException"/> when the session is lost first; cancelling removes the candidacy.
    /// </summary>
    Task<ILeadership> CampaignAsync(string value, CancellationToken cancellationToken = default);

    /// <summary>The current leader, or null when there is none.</summary>
    Task<ElectionLeader?> GetLeaderAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The current leader, then every change in order: a new leader, a new value proclaimed by the
    /// leader, or no leader at all (<see cref="LeaderChange.Leader"/> null). Survives compaction by reading again.
    /// </summary>
    IAsyncEnumerable<LeaderChange> ObserveAsync(CancellationToken cancellationToken = default);
}

/// <summary>Leadership won by <see cref="ICoordinationElection.CampaignAsync"/>. Disposing resigns.</summary>
public interface ILeadership : IAsyncDisposable
{
    /// <summary>Our candidate key.</summary>
    string Key { get; }

    /// <summary>Our key's create revision (strictly increasing across leaders).</summary>
    long CreateRevision { get; }

    /// <summary>Fires when the session is lost (someone else may lead then) or we resign.</summary>
    CancellationToken LeadershipLostToken { get; }

    /// <summary>Publishes a new value as leader; throws <see cref="ElectionNotLeaderException"/> when we no longer lead.</summary>
    Task ProclaimAsync(string value, CancellationToken cancellationToken = default);

    /// <summary>Gives up leadership (deletes our key if it is still ours).</summary>
    Task ResignAsync(CancellationToken cancellationToken = default);
}

/// <summary>A leader as stored: its key, value, create and mod revisions, and lease.</summary>
public sealed record ElectionLeader(string Key, string Value, long CreateRevision, long ModRevision, long LeaseId);

/// <summary>One observation: the leader from <see cref="Revision"/> on, or null when there is no leader.</summary>
public sealed record LeaderChange(ElectionLeader? Leader, long Revision)
{
    /// <summary>Whether there is a leader.</summary>
    public bool HasLeader => Leader is not null;
}
