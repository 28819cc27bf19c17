namespace Coordination.Concurrency;

/// <summary>
/// Entry point of the concurrency recipes on one client: sessions, mutexes, elections and STM, all
/// interoperable with etcd's Go <c>concurrency</c> package on the same keys.
/// </summary>
public interface ICoordinationConcurrency
{
    /// <summary>The client the recipes use.</summary>
    ICoordinationClient Client { get; }

    /// <summary>Grants (or adopts) a lease and keeps it alive until the session is closed or lost.</summary>
    Task<ICoordinationSession> CreateSessionAsync(SessionOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>A mutex named <paramref name="name"/> whose key lives as long as <paramref name="session"/>.</summary>
    ICoordinationMutex CreateMutex(ICoordinationSession session, string name);

    /// <summary>An election named <paramref name="name"/> whose candidacy lives as long as <paramref name="session"/>.</summary>
    ICoordinationElection CreateElection(ICoordinationSession session, string name);

    /// <summary>An election to read only (leader and observation), without a session.</summary>
    ICoordinationElection ObserveElection(string name);

    /// <summary>
    /// Runs <paramref name="apply"/> over a transactional view and commits its writes atomically,
    /// running it again (after a back-off) whenever the isolation level detects a conflict.
    /// Exceptions thrown by <paramref name="apply"/> abort without committing.
    /// </summary>
    Task<StmResult> RunStmAsync(Func<IStm, CancellationToken, Task> apply, StmOptions? options = null, CancellationToken cancellationToken = default);
}
