using System;
using Coordination.Raft.Protocol;
using Coordination.Raft.Quorum;

namespace Coordination.Raft;

public sealed partial class RaftNode
{
    private void BecomeFollower(ulong term, ulong leader)
    {
        Reset(term);
        Role = RaftRole.Follower;
        Follow(leader);
    }

    /// <summary>Records this term's leader (0 for none); a leader known again ends quick elections.</summary>
    private void Follow(ulong leader)
    {
        Leader = leader;
        if (leader != 0 && _lostLeader != 0)
        {
            _lostLeader = 0;
            ResetElectionTimeout();
        }
    }

    /// <summary>
    /// True for a message from the leader reported gone, in the term it led and within an election
    /// timeout of the report: it was sent before the process died (a restarted member never leads
    /// the term it left) and only arrived late. It still carries entries and the commit index, but not
    /// leadership. Later ones are believed: the report may have been wrong.
    /// </summary>
    private bool IsFromLostLeader(Message m) => m.From == _lostLeader && _lostLeaderQuietTicks > 0;

    private void BecomePreCandidate()
    {
        // Neither the term nor the vote changes: a pre-vote only asks.
        _tracker.ResetVotes();
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        ResetElectionTimeout();
        Role = RaftRole.PreCandidate;
        Leader = 0;
    }

    private void BecomeCandidate()
    {
        Reset(Term + 1);
        Vote = Id;
        Role = RaftRole.Candidate;
    }

    private void BecomeLeader()
    {
        _lostLeader = 0;
        Reset(Term);
        Role = RaftRole.Leader;
        Leader = Id;
        _tracker.ResetProgress(_log.LastIndex + 1);
        _tracker.Get(Id)?.MaybeUpdate(_log.StableIndex);
        _tracker.Get(Id)?.BecomeReplicate();
        // Configuration changes in the log but not applied may be anywhere up to the last index:
        // refuse new ones until the host has applied everything we have.
        _pendingConfIndex = _log.LastIndex;
        // A leader commits entries of earlier terms only through an entry of its own term (§5.4.2).
        _log.Append(new Entry { Term = Term, Index = _log.LastIndex + 1, Type = EntryType.EntryNormal });
        MaybeCommit();
    }

    private void Reset(ulong term)
    {
        _transferCampaignDeferred = false;
        _appendsPending = false;
        _commitPending = false;
        if (Term != term)
        {
            Term = term;
            Vote = 0;
            // Only the term the reported leader led has messages it sent before it died; in a later
            // term it may lead again (restarted, elected).
            _lostLeaderQuietTicks = 0;
        }
        Leader = 0;
        _electionElapsed = 0;
        _heartbeatElapsed = 0;
        ResetElectionTimeout();
        LeadTransferee = 0;
        _tracker.ResetVotes();
        _reads.Clear();
        _readsAwaitingTermCommit.Clear();
    }

    private void ResetElectionTimeout() =>
        _randomizedElectionTimeout = _lostLeader != 0
            // Long enough for the other members to hear of the crash too (their transports notice
            // it within tens of milliseconds), random so that two of them rarely campaign at once;
            // and when they do, and split the vote, they try again as quickly.
            ? Math.Min(_config.ElectionTicks, 2 * _config.HeartbeatTicks + _random.Next(_config.HeartbeatTicks + 1))
            : _config.ElectionTicks + _random.Next(_config.ElectionTicks);

    private void LeaderDown(ulong peer)
    {
        if (Role != RaftRole.Follower || peer == 0 || Leader != peer) return;
        Leader = 0;
        _lostLeader = peer;
        _lostLeaderQuietTicks = _config.ElectionTicks;
        _electionElapsed = 0;
        ResetElectionTimeout();
    }

    private void TickElection()
    {
        if (_lostLeaderQuietTicks > 0) _lostLeaderQuietTicks--;
        _electionElapsed++;
        if (IsPromotable && _electionElapsed >= _randomizedElectionTimeout)
        {
            _electionElapsed = 0;
            StepLocal(new Message { Type = MessageType.MsgHup });
        }
    }

    private void TickHeartbeat()
    {
        _heartbeatElapsed++;
        _electionElapsed++;
        if (_electionElapsed >= _config.ElectionTicks)
        {
            _electionElapsed = 0;
            if (_config.CheckQuorum) StepLocal(new Message { Type = MessageType.MsgCheckQuorum });
            // A transfer that did not finish within an election timeout is abandoned.
            if (Role == RaftRole.Leader) LeadTransferee = 0;
        }
        if (Role != RaftRole.Leader) return;
        if (_heartbeatElapsed >= _config.HeartbeatTicks)
        {
            _heartbeatElapsed = 0;
            StepLocal(new Message { Type = MessageType.MsgBeat });
        }
    }

    private void Hup(bool transfer)
    {
        if (Role == RaftRole.Leader || !IsPromotable) return;
        // A committed configuration change not yet applied might remove us or change the quorum:
        // wait for the host to apply it. A transfer's campaign is only deferred until then.
        if (HasUnappliedConfChange())
        {
            if (transfer) _transferCampaignDeferred = true;
            return;
        }
        if (_config.PreVote && !transfer) StartCampaign(preVote: true, transfer: false);
        else StartCampaign(preVote: false, transfer);
    }

    private void StartCampaign(bool preVote, bool transfer)
    {
        ulong term;
        if (preVote)
        {
            BecomePreCandidate();
            term = Term + 1;
        }
        else
        {
            BecomeCandidate();
            term = Term;
        }
        if (RecordVote(Id, granted: true, preVote) != VoteResult.Pending) return;
        foreach (var id in _tracker.Voters)
        {
            if (id == Id) continue;
            var m = new Message
            {
                To = id,
                Type = preVote ? MessageType.MsgPreVote : MessageType.MsgVote,
                Term = term,
                Index = _log.LastIndex,
                LogTerm = _log.LastTerm,
            };
            if (transfer) m.Context = TransferCampaign;
            Send(m);
        }
    }

    /// <summary>Counts a vote; on a decision moves on (pre-vote won → real election; won → leader; lost → follower).</summary>
    private VoteResult RecordVote(ulong from, bool granted, bool preVote)
    {
        var result = _tracker.RecordVote(from, granted);
        switch (result)
        {
            case VoteResult.Won when preVote:
                StartCampaign(preVote: false, transfer: false);
                break;
            case VoteResult.Won:
                BecomeLeader();
                BroadcastAppend();
                break;
            case VoteResult.Lost:
                // A lost pre-vote leaves the term unchanged; a lost vote keeps the raised term.
                BecomeFollower(Term, 0);
                break;
        }
        return result;
    }
}
