namespace Coordination.Raft;

/// <summary>Outcome of a proposal handed to the core (a value, not an exception, on the hot path).</summary>
public enum ProposeResult
{
    /// <summary>Appended to the leader's log; it will appear in a later <see cref="Ready"/>.</summary>
    Accepted,

    /// <summary>Dropped: no leader is known, a leadership transfer is in progress, or (for a configuration change) another one is pending.</summary>
    Dropped,

    /// <summary>Sent on to the leader; whether it is appended is not known (it may be lost with the message).</summary>
    Forwarded,
}
