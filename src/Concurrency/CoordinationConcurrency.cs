using Coordination.Concurrency.Elections;
using Coordination.Concurrency.Locking;
using Coordination.Concurrency.Sessions;
using Coordination.Concurrency.Stm;

namespace Coordination.Concurrency;

/// <summary>Creates <see cref="ICoordinationConcurrency"/> over a client (see also <c>AddCoordinationConcurrency</c>).</summary>
public static class CoordinationConcurrency
{
    /// <summary>The recipes over <paramref name="client"/>, timed by <paramref name="timeProvider"/> (default: the system clock).</summary>
    public static ICoordinationConcurrency Create(ICoordinationClient client, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new ConcurrencyRecipes(client, timeProvider ?? TimeProvider.System);
    }
}

/// <summary>The recipes over one client and clock.</summary>
internal sealed class ConcurrencyRecipes(ICoordinationClient client, TimeProvider time) : ICoordinationConcurrency
{
    private readonly StmRunner _stm = new(client, time);

    public ICoordinationClient Client => client;

    public Task<ICoordinationSession> CreateSessionAsync(SessionOptions? options = null, CancellationToken cancellationToken = default) =>
        CoordinationSession.StartAsync(client, time, options, cancellationToken);

    public ICoordinationMutex CreateMutex(ICoordinationSession session, string name) => new CoordinationMutex(session, name, time);

    public ICoordinationElection CreateElection(ICoordinationSession session, string name) => new CoordinationElection(session, name, time);

    public ICoordinationElection ObserveElection(string name) => new CoordinationElection(client, name, time);

    public Task<StmResult> RunStmAsync(Func<IStm, CancellationToken, Task> apply, StmOptions? options = null, CancellationToken cancellationToken = default) =>
        _stm.RunAsync(apply, options, cancellationToken);
}
