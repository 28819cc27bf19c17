using Coordination.Raft.Protocol;

namespace Coordination.Raft;

public sealed partial class RaftNode
{
    /// <summary>
    /// A change is acceptable when it alters exactly one member and leaves at least one voter.
    /// Changes of one member at a time keep any two consecutive majorities overlapping, so no
    /// joint configuration is needed (Raft thesis §4.1).
    /// </summary>
    private bool IsAcceptableConfChange(ConfChange change)
    {
        if (change.NodeId == 0) return false;
        return change.Type switch
        {
            ConfChangeType.ConfChangeRemoveNode => !(_tracker.IsVoter(change.NodeId) && _tracker.Voters.Count == 1),
            ConfChangeType.ConfChangeAddLearnerNode => !_tracker.IsVoter(change.NodeId),
            _ => true,
        };
    }

    /// <summary>True when a committed entry not yet applied changes the configuration.</summary>
    private bool HasUnappliedConfChange()
    {
        if (Commit <= _applied) return false;
        for (var i = System.Math.Max(_applied, _log.OffsetIndex) + 1; i <= Commit && i <= _log.LastIndex; i++)
        {
            if (_log.At(i).Type == EntryType.EntryConfChange) return true;
        }
        return false;
    }

    /// <summary>Applies a configuration change the host has applied (in log order, at most once per entry).</summary>
    private void ApplyConfChange(ConfChange change)
    {
        var next = _log.LastIndex + 1;
        switch (change.Type)
        {
            case ConfChangeType.ConfChangeAddNode:
                _tracker.AddVoter(change.NodeId, next);
                break;
            case ConfChangeType.ConfChangeAddLearnerNode:
                _tracker.AddLearner(change.NodeId, next);
                break;
            case ConfChangeType.ConfChangeRemoveNode:
                _tracker.Remove(change.NodeId);
                break;
        }
        if (Role != RaftRole.Leader) return;
        if (_tracker.Get(Id) is null)
        {
            // The leader removed itself. Hand over to the most up-to-date voter so the cluster does
            // not wait an election timeout, then step down.
            ulong best = 0, bestMatch = 0;
            foreach (var (id, pr) in _tracker.All)
            {
                if (pr.IsLearner || pr.Match < bestMatch) continue;
                if (pr.Match > bestMatch || best == 0) { best = id; bestMatch = pr.Match; }
            }
            BroadcastAppend();
            if (best != 0 && bestMatch == _log.LastIndex) Send(new Message { To = best, Type = MessageType.MsgTimeoutNow });
            BecomeFollower(Term, 0);
            return;
        }
        if (LeadTransferee != 0 && !_tracker.IsVoter(LeadTransferee)) LeadTransferee = 0;
        // The quorum changed: what it has acknowledged may now be committed.
        if (MaybeCommit()) BroadcastAppend();
        else if (change.Type != ConfChangeType.ConfChangeRemoveNode && _tracker.Get(change.NodeId) is { } added && change.NodeId != Id)
            SendAppend(change.NodeId, added, sendIfEmpty: true);
    }
}
