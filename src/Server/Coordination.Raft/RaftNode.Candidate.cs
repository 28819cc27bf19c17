using Coordination.Raft.Protocol;

namespace Coordination.Raft;

public sealed partial class RaftNode
{
    private void StepCandidate(Message m)
    {
        if (Role == RaftRole.PreCandidate && IsFromLostLeader(m))
        {
            // Sent before the reported leader died: keep its entries, keep campaigning.
            switch (m.Type)
            {
                case MessageType.MsgApp: HandleAppend(m); return;
                case MessageType.MsgHeartbeat: HandleHeartbeat(m); return;
                case MessageType.MsgSnap: HandleSnapshot(m); return;
            }
        }
        switch (m.Type)
        {
            case MessageType.MsgProp or MessageType.MsgReadIndex:
                // No leader to forward to: dropped; the proposer times out and retries.
                return;
            case MessageType.MsgApp:
                BecomeFollower(m.Term, m.From);
                HandleAppend(m);
                return;
            case MessageType.MsgHeartbeat:
                BecomeFollower(m.Term, m.From);
                HandleHeartbeat(m);
                return;
            case MessageType.MsgSnap:
                BecomeFollower(m.Term, m.From);
                HandleSnapshot(m);
                return;
            case MessageType.MsgVoteResp when Role == RaftRole.Candidate:
                RecordVote(m.From, !m.Reject, preVote: false);
                return;
            case MessageType.MsgPreVoteResp when Role == RaftRole.PreCandidate:
                RecordVote(m.From, !m.Reject, preVote: true);
                return;
        }
    }
}
