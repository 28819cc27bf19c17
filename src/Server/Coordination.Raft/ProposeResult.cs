namespace Coordination.Raft;

/// <summary>Outcome of a proposal handed to the core (a value, not an exception, on the hot path).</summary>
public enum ProposeResult
{
    /// <summary>Appended to the leader's log; it will appear in a later <see cref="Ready"/>.</summary>
    Accepted,

    /// <summary>Dropped: this member is not the leader (or a leadership transfer is in progress).</summary>
    Dropped,
}
