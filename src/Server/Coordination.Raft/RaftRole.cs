namespace Coordination.Raft;

/// <summary>The role a member plays in its current term.</summary>
public enum RaftRole
{
    /// <summary>Follows a leader (or waits for one).</summary>
    Follower,

    /// <summary>Asks for votes to become leader.</summary>
    Candidate,

    /// <summary>Accepts proposals and decides what is committed.</summary>
    Leader,

    /// <summary>Asks whether it would win an election, without raising the term (pre-vote).</summary>
    PreCandidate,
}
