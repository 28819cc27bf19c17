namespace Coordination.Concurrency;

/// <summary>Base of the errors raised by the concurrency recipes (sessions, mutexes, elections, STM).</summary>
public class CoordinationConcurrencyException : Exception
{
    /// <summary>Creates the exception with a message.</summary>
    public CoordinationConcurrencyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public CoordinationConcurrencyException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The session's lease is gone (revoked, expired, or not renewed in time), so a lock or a leadership
/// that depends on it cannot be granted or is no longer held.
/// </summary>
public sealed class SessionExpiredException : CoordinationConcurrencyException
{
    /// <summary>Creates the exception for a lease.</summary>
    public SessionExpiredException(long leaseId, string message)
        : base(message) => LeaseId = leaseId;

    /// <summary>The lease of the session that expired.</summary>
    public long LeaseId { get; }
}

/// <summary>An operation that needs the lock was attempted after the lock's key was deleted (released, or its session lost).</summary>
public sealed class LockNotHeldException : CoordinationConcurrencyException
{
    /// <summary>Creates the exception for a lock key.</summary>
    public LockNotHeldException(string key)
        : base($"The lock '{key}' is no longer held.") => Key = key;

    /// <summary>The lock key that is no longer ours.</summary>
    public string Key { get; }
}

/// <summary>Proclaim or resign was attempted by a candidate that is not (or no longer) the leader.</summary>
public sealed class ElectionNotLeaderException : CoordinationConcurrencyException
{
    /// <summary>Creates the exception for a candidate key.</summary>
    public ElectionNotLeaderException(string key)
        : base($"'{key}' is not the leader of its election.") => Key = key;

    /// <summary>The candidate key.</summary>
    public string Key { get; }
}

/// <summary>An STM transaction conflicted on every attempt allowed by <see cref="StmOptions.MaxAttempts"/>.</summary>
public sealed class StmConflictException : CoordinationConcurrencyException
{
    /// <summary>Creates the exception after the given number of attempts.</summary>
    public StmConflictException(int attempts)
        : base($"The STM transaction conflicted on all {attempts} attempts.") => Attempts = attempts;

    /// <summary>How many times the transaction was run and found in conflict.</summary>
    public int Attempts { get; }
}
