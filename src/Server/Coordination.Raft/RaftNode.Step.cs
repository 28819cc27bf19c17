using Coordination.Raft.Protocol;
using Google.Protobuf;

namespace Coordination.Raft;

public sealed partial class RaftNode
{
    /// <summary>The context of a campaign started by a leadership transfer: it may disturb a current leader.</summary>
    private static readonly ByteString TransferCampaign = ByteString.CopyFromUtf8("transfer");

    /// <summary>
    /// The rules every role shares: compare the message's term with ours (§5.1), handle elections
    /// and votes, then hand the message to the role's own step function.
    /// </summary>
    private void StepMessage(Message m)
    {
        if (m.Term == 0)
        {
            // Local messages, and proposals / read requests forwarded by followers.
        }
        else if (m.Term > Term)
        {
            if (m.Type is MessageType.MsgVote or MessageType.MsgPreVote)
            {
                var force = m.Context.Equals(TransferCampaign);
                var inLease = _config.CheckQuorum && Leader != 0 && _electionElapsed < _config.ElectionTicks;
                // Leader stickiness: while we hear from a leader, a member that merely timed out
                // (perhaps cut off and now back) must not disturb the cluster.
                if (!force && inLease) return;
            }
            if (m.Type == MessageType.MsgPreVote)
            {
                // A pre-vote never changes our term.
            }
            else if (m.Type == MessageType.MsgPreVoteResp && !m.Reject)
            {
                // A granted pre-vote carries the term we would campaign in; we raise ours on winning.
            }
            else if (m.Type is MessageType.MsgApp or MessageType.MsgHeartbeat or MessageType.MsgSnap)
            {
                BecomeFollower(m.Term, m.From);
            }
            else
            {
                BecomeFollower(m.Term, 0);
            }
        }
        else if (m.Term < Term)
        {
            if ((_config.CheckQuorum || _config.PreVote) && m.Type is MessageType.MsgHeartbeat or MessageType.MsgApp)
            {
                // A stale leader (e.g. one that was partitioned) learns our term and steps down;
                // without this it could keep a quorum of sticky followers from electing anyone.
                Send(new Message { To = m.From, Type = MessageType.MsgAppResp });
            }
            else if (m.Type == MessageType.MsgPreVote)
            {
                Send(new Message { To = m.From, Type = MessageType.MsgPreVoteResp, Term = Term, Reject = true });
            }
            return;
        }

        switch (m.Type)
        {
            case MessageType.MsgHup:
                Hup(m.Context.Equals(TransferCampaign));
                return;
            case MessageType.MsgVote or MessageType.MsgPreVote:
                HandleVoteRequest(m);
                return;
        }

        switch (Role)
        {
            case RaftRole.Leader: StepLeader(m); break;
            case RaftRole.Candidate or RaftRole.PreCandidate: StepCandidate(m); break;
            default: StepFollower(m); break;
        }
    }

    private void HandleVoteRequest(Message m)
    {
        // We may vote for m.From if we already did in this term, if we voted for no one and know of
        // no leader, or (pre-vote) for a future term.
        var canVote = Vote == m.From
            || (Vote == 0 && Leader == 0)
            || (m.Type == MessageType.MsgPreVote && m.Term > Term);
        var responseType = m.Type == MessageType.MsgVote ? MessageType.MsgVoteResp : MessageType.MsgPreVoteResp;
        if (canVote && _log.IsUpToDate(m.Index, m.LogTerm))
        {
            // The response carries the candidate's term: for a pre-vote ours did not change, and a
            // lower term would be dropped as stale by the pre-candidate.
            Send(new Message { To = m.From, Type = responseType, Term = m.Term });
            if (m.Type == MessageType.MsgVote)
            {
                _electionElapsed = 0;
                Vote = m.From;
            }
        }
        else
        {
            Send(new Message { To = m.From, Type = responseType, Term = Term, Reject = true });
        }
    }
}
