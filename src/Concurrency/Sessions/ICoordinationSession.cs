namespace Coordination.Concurrency;

/// <summary>
/// A lease kept alive in the background: the liveness that locks and elections hang on. Keys written
/// with <see cref="LeaseId"/> disappear when the session ends, however it ends.
/// </summary>
public interface ICoordinationSession : IAsyncDisposable
{
    /// <summary>The client the session was created on.</summary>
    ICoordinationClient Client { get; }

    /// <summary>The session's lease.</summary>
    long LeaseId { get; }

    /// <summary>The lease's time to live as granted.</summary>
    TimeSpan Ttl { get; }

    /// <summary>
    /// Fires when the session ends: the lease was revoked or expired, a renewal did not arrive before
    /// the local deadline (last renewal + TTL), or the session was closed.
    /// </summary>
    CancellationToken SessionLost { get; }

    /// <summary>Whether <see cref="SessionLost"/> has fired.</summary>
    bool IsLost { get; }

    /// <summary>Stops renewing and revokes the lease (its keys go at once); fires <see cref="SessionLost"/>.</summary>
    Task CloseAsync(CancellationToken cancellationToken = default);
}
