using System.Collections.Generic;
using System.Linq;
using Coordination.Raft.Protocol;
using Coordination.Raft.Tracker;

namespace Coordination.Raft;

public sealed partial class RaftNode
{
    private void StepLeader(Message m)
    {
        switch (m.Type)
        {
            case MessageType.MsgBeat:
                BroadcastHeartbeat();
                return;
            case MessageType.MsgCheckQuorum:
                if (!_tracker.QuorumActive(Id))
                {
                    // Cut off from a quorum: a leader elsewhere may already serve writes; stop
                    // accepting them here (and stop confirming reads) until we hear from it.
                    BecomeFollower(Term, 0);
                }
                _tracker.ResetRecentActive(Id);
                return;
            case MessageType.MsgProp:
                AppendProposal(m.Entries, fromSelf: m.From == Id);
                return;
            case MessageType.MsgReadIndex:
                HandleReadIndex(m);
                return;
        }

        // The rest are answers from members.
        var pr = _tracker.Get(m.From);
        if (pr is null) return;
        switch (m.Type)
        {
            case MessageType.MsgAppResp:
                HandleAppendResponse(m, pr);
                break;
            case MessageType.MsgHeartbeatResp:
                HandleHeartbeatResponse(m, pr);
                break;
            case MessageType.MsgSnapStatus:
                if (pr.State != ProgressState.Snapshot) break;
                // Succeeded or not, probe next; wait for a heartbeat answer before sending entries,
                // so a snapshot still being installed is not raced by appends.
                pr.BecomeProbe();
                pr.ProbeSent = true;
                break;
            case MessageType.MsgUnreachable:
                if (pr.State == ProgressState.Replicate) pr.BecomeProbe();
                break;
            case MessageType.MsgTransferLeader:
                HandleTransferLeader(m.From, pr);
                break;
        }
    }

    /// <summary>
    /// Appends a proposal's entries to the leader's log; false when it must be dropped. The
    /// followers hear of them at the next Ready (<see cref="FlushAppends"/>), so the proposals of
    /// one Ready leave in one append per follower, not one each.
    /// </summary>
    private bool AppendProposal(IList<Entry> entries, bool fromSelf)
    {
        if (entries.Count == 0) return false;
        // A leader removed from the configuration, or handing over leadership, takes no proposals.
        if (_tracker.Get(Id) is null || LeadTransferee != 0) return false;
        // Index loops: a RepeatedField's enumerator is an iterator object (this runs for every proposal).
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            if (e.Type != EntryType.EntryConfChange) continue;
            if (_pendingConfIndex > _applied || !IsAcceptableConfChange(ConfChange.Parser.ParseFrom(e.Data)))
            {
                // Forwarded from a follower, the proposer cannot be told; an empty entry keeps the
                // batch's shape (the proposer sees nothing applied and times out).
                if (fromSelf && entries.Count == 1) return false;
                e.Type = EntryType.EntryNormal;
                e.Data = Google.Protobuf.ByteString.Empty;
            }
        }
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            e.Term = Term;
            e.Index = _log.LastIndex + 1;
            _log.Append(e);
            if (e.Type == EntryType.EntryConfChange) _pendingConfIndex = e.Index;
        }
        _appendsPending = true;
        return true;
    }

    private void HandleAppendResponse(Message m, Progress pr)
    {
        pr.RecentActive = true;
        if (m.Reject)
        {
            // The follower's log does not match at m.Index. Its hint (index and term of its last
            // entry at or below m.Index) lets us skip a whole diverging term at once.
            var next = m.RejectHint;
            if (m.LogTerm > 0) next = _log.FindConflictByTerm(m.RejectHint, m.LogTerm);
            if (pr.MaybeDecreaseTo(m.Index, next))
            {
                if (pr.State == ProgressState.Replicate) pr.BecomeProbe();
                SendAppend(m.From, pr, sendIfEmpty: true);
            }
            return;
        }

        var wasPaused = pr.IsPaused;
        if (!pr.MaybeUpdate(m.Index)) return;
        switch (pr.State)
        {
            case ProgressState.Probe:
                pr.BecomeReplicate();
                break;
            case ProgressState.Snapshot when pr.Match >= _log.OffsetIndex:
                // The snapshot (or enough of the log) arrived: what follows is in memory.
                pr.BecomeProbe();
                pr.BecomeReplicate();
                break;
            case ProgressState.Replicate:
                pr.Inflights.FreeLE(m.Index);
                break;
        }
        if (MaybeCommit())
        {
            // Every follower hears of the new commit index at the next Ready, once however many
            // answers this Ready brings.
            _commitPending = true;
        }
        else if (wasPaused)
        {
            SendAppend(m.From, pr, sendIfEmpty: false);
        }
        // Stream what is left while the window allows.
        while (SendAppend(m.From, pr, sendIfEmpty: false))
        {
        }
        if (m.From == LeadTransferee && pr.Match == _log.LastIndex)
        {
            Send(new Message { To = m.From, Type = MessageType.MsgTimeoutNow });
        }
    }

    private void HandleHeartbeatResponse(Message m, Progress pr)
    {
        pr.RecentActive = true;
        pr.ProbeSent = false;
        // The member is alive, yet the window is full: appends were probably lost (a transport
        // need not report every loss). Free one slot; if the member lacks what precedes it, its
        // rejection puts us back to probing from its last match.
        if (pr.State == ProgressState.Replicate && pr.Inflights.Full) pr.Inflights.FreeFirstOne();
        if (pr.Match < _log.LastIndex) SendAppend(m.From, pr, sendIfEmpty: true);
        if (m.Context.IsEmpty) return;
        var acks = _reads.Acknowledge(m.From, m.Context);
        if (acks is null || !_tracker.IsQuorum(acks)) return;
        foreach (var (index, request) in _reads.ReleaseThrough(m.Context)) AnswerRead(request, index);
    }

    private void HandleReadIndex(Message m)
    {
        if (_tracker.Voters.Count == 1 && _tracker.IsVoter(Id))
        {
            // A single voter is its own quorum: no round needed once it committed in its term.
            if (CommittedInCurrentTerm()) AnswerRead(m, Commit);
            else _readsAwaitingTermCommit.Add(m);
            return;
        }
        // Until the leader has committed an entry of its term it does not know the true commit
        // index (earlier terms' entries may be committed without it knowing): wait for that.
        if (!CommittedInCurrentTerm())
        {
            _readsAwaitingTermCommit.Add(m);
            return;
        }
        _reads.Add(Commit, m, Id);
    }

    private void AnswerRead(Message request, ulong index)
    {
        if (request.From == Id || request.From == 0)
        {
            _readStates.Add(new ReadState(index, request.Context));
        }
        else
        {
            Send(new Message { To = request.From, Type = MessageType.MsgReadIndexResp, Index = index, Context = request.Context });
        }
    }

    private bool CommittedInCurrentTerm() => _log.TryTerm(Commit, out var t) && t == Term;

    private void HandleTransferLeader(ulong transferee, Progress pr)
    {
        if (pr.IsLearner || transferee == Id) return;
        if (LeadTransferee == transferee) return;
        LeadTransferee = transferee;
        // The transfer must finish within an election timeout.
        _electionElapsed = 0;
        if (pr.Match == _log.LastIndex) Send(new Message { To = transferee, Type = MessageType.MsgTimeoutNow });
        else SendAppend(transferee, pr, sendIfEmpty: true);
    }

    /// <summary>Advances the commit index to what a quorum acknowledged, if that entry is of our term (§5.4.2).</summary>
    private bool MaybeCommit()
    {
        var quorumIndex = _tracker.CommittedIndex();
        if (quorumIndex == ulong.MaxValue) quorumIndex = _log.StableIndex;
        if (quorumIndex <= Commit || !_log.TryTerm(quorumIndex, out var term) || term != Term) return false;
        Commit = quorumIndex;
        if (_readsAwaitingTermCommit.Count > 0)
        {
            var waiting = _readsAwaitingTermCommit.ToList();
            _readsAwaitingTermCommit.Clear();
            foreach (var r in waiting) HandleReadIndex(r);
        }
        return true;
    }
}
