using System;
using Coordination.Raft.Protocol;

namespace Coordination.Raft;

public sealed partial class RaftNode
{
    private void StepFollower(Message m)
    {
        switch (m.Type)
        {
            case MessageType.MsgProp:
                if (Leader == 0) return;
                Send(new Message(m) { To = Leader, Term = 0 });
                return;
            case MessageType.MsgApp:
                HeardFromLeader(m);
                HandleAppend(m);
                return;
            case MessageType.MsgHeartbeat:
                HeardFromLeader(m);
                HandleHeartbeat(m);
                return;
            case MessageType.MsgSnap:
                HeardFromLeader(m);
                HandleSnapshot(m);
                return;
            case MessageType.MsgTransferLeader:
                if (Leader == 0) return;
                Send(new Message(m) { To = Leader, Term = 0 });
                return;
            case MessageType.MsgTimeoutNow:
                // The leader hands over: campaign at once, skipping pre-vote and leader stickiness.
                Hup(transfer: true);
                return;
            case MessageType.MsgReadIndex:
                if (Leader == 0) return;
                Send(new Message(m) { To = Leader, Term = 0 });
                return;
            case MessageType.MsgReadIndexResp:
                _readStates.Add(new ReadState(m.Index, m.Context));
                return;
        }
    }

    private void HeardFromLeader(Message m)
    {
        if (IsFromLostLeader(m)) return;
        _electionElapsed = 0;
        Follow(m.From);
    }

    private void HandleAppend(Message m)
    {
        if (m.Index < Commit)
        {
            // Everything up to our commit index matches the leader's log already.
            Send(new Message { To = m.From, Type = MessageType.MsgAppResp, Index = Commit });
            return;
        }
        var lastNew = _log.MaybeAppend(m.Index, m.LogTerm, m.Entries, Commit);
        if (lastNew is { } last)
        {
            CommitTo(Math.Min(m.Commit, last));
            Send(new Message { To = m.From, Type = MessageType.MsgAppResp, Index = last });
            return;
        }
        // Our log does not match at m.Index. Hint where it might: the last index at or below it
        // whose term is at most the leader's term there.
        var hintIndex = _log.FindConflictByTerm(Math.Min(m.Index, _log.LastIndex), m.LogTerm);
        _log.TryTerm(hintIndex, out var hintTerm);
        Send(new Message
        {
            To = m.From, Type = MessageType.MsgAppResp, Index = m.Index, Reject = true,
            RejectHint = hintIndex, LogTerm = hintTerm,
        });
    }

    private void HandleHeartbeat(Message m)
    {
        // The leader sends at most what it knows we hold, so this never passes our log.
        CommitTo(Math.Min(m.Commit, _log.LastIndex));
        Send(new Message { To = m.From, Type = MessageType.MsgHeartbeatResp, Context = m.Context });
    }

    private void HandleSnapshot(Message m)
    {
        var snapshot = m.Snapshot;
        if (snapshot?.Metadata is null) return;
        var index = snapshot.Metadata.Index;
        if (index <= Commit)
        {
            // Old news: tell the leader how far we are.
            Send(new Message { To = m.From, Type = MessageType.MsgAppResp, Index = Commit });
            return;
        }
        if (_log.MatchTerm(index, snapshot.Metadata.Term))
        {
            // We hold the snapshot's last entry: the log is fine, only the commit index moves.
            CommitTo(index);
            Send(new Message { To = m.From, Type = MessageType.MsgAppResp, Index = _log.LastIndex });
            return;
        }
        _log.Restore(snapshot);
        Commit = index;
        _latestSnapshot = snapshot;
        _tracker.Restore(snapshot.Metadata.ConfState ?? new ConfState(), _log.LastIndex + 1);
        Send(new Message { To = m.From, Type = MessageType.MsgAppResp, Index = _log.LastIndex });
    }

    private void CommitTo(ulong index)
    {
        if (index > Commit) Commit = index;
    }
}
