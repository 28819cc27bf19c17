using System;
using System.Collections.Generic;
using System.Linq;
using Coordination.Raft.Protocol;
using Coordination.Raft.Tracker;
using Google.Protobuf;

namespace Coordination.Raft;

/// <summary>
/// The consensus core: a pure, deterministic state machine. It does no I/O, starts no threads or
/// tasks and reads no clock. Time arrives through <see cref="Tick"/>, messages from peers through
/// <see cref="Step"/>, randomness from the seed in <see cref="RaftConfig"/>; work leaves through
/// <see cref="GetReady"/>. Single-threaded: the host calls it from one loop.
/// </summary>
/// <remarks>
/// The algorithm is split by concern: this file holds the state and the inputs;
/// <c>RaftNode.Step.cs</c> the term rules common to every role; <c>RaftNode.Roles.cs</c> the role
/// transitions and ticks; <c>RaftNode.Leader.cs</c>, <c>RaftNode.Candidate.cs</c> and
/// <c>RaftNode.Follower.cs</c> each role's handling of messages; <c>RaftNode.Replication.cs</c>
/// sending entries and snapshots; <c>RaftNode.Membership.cs</c> configuration changes;
/// <c>RaftNode.Ready.cs</c> the batch of work handed to the host.
/// </remarks>
public sealed partial class RaftNode
{
    private readonly RaftConfig _config;
    private readonly RaftLog _log;
    private readonly Random _random;
    private readonly ProgressTracker _tracker;
    private readonly ReadOnlyRequests _reads = new();
    private readonly List<Message> _readsAwaitingTermCommit = new();
    private List<Message> _messages = new();
    private List<ReadState> _readStates = new();
    private HardState _persistedHardState;
    private ulong _applied;
    private int _electionElapsed;
    private int _heartbeatElapsed;
    private int _randomizedElectionTimeout;
    private ulong _pendingConfIndex;
    private Snapshot? _latestSnapshot;
    private ulong _releasableIndex;
    private bool _transferCampaignDeferred;
    // The leader the host reported gone (0 for none), until a leader is known again: until then
    // every election timeout is a few heartbeats (see ResetElectionTimeout). For an election timeout
    // after the report its messages of this term count as sent before it died (see IsFromLostLeader).
    private ulong _lostLeader;
    private int _lostLeaderQuietTicks;
    // Appends deferred to the next Ready (see FlushAppends): entries proposed since the last
    // Ready, and a commit index the followers have not been told of.
    private bool _appendsPending;
    private bool _commitPending;
    // The proposals this follower forwards to the leader in the current Ready: one message
    // gathers them all.
    private Message? _forwarding;

    /// <summary>Restores a member from what its storage holds.</summary>
    /// <param name="config">The member's configuration.</param>
    /// <param name="hardState">The last persisted hard state (empty for a new member).</param>
    /// <param name="snapshot">Metadata of the snapshot the state machine was restored from, if any.</param>
    /// <param name="entries">Persisted entries after the snapshot, in index order.</param>
    public RaftNode(RaftConfig config, HardState hardState, SnapshotMetadata? snapshot, IReadOnlyList<Entry> entries)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(hardState);
        config.Validate();
        _config = config;
        _random = new Random(config.Seed);
        _log = new RaftLog(snapshot?.Index ?? 0, snapshot?.Term ?? 0, entries);
        _tracker = new ProgressTracker(config.MaxInflightMessages);
        if (snapshot?.ConfState is { } cs && (cs.Voters.Count > 0 || cs.Learners.Count > 0))
        {
            _tracker.Restore(cs, _log.LastIndex + 1);
        }
        else
        {
            foreach (var id in config.Voters) _tracker.AddVoter(id, _log.LastIndex + 1);
            foreach (var id in config.Learners) _tracker.AddLearner(id, _log.LastIndex + 1);
        }
        Term = hardState.Term;
        Vote = hardState.Vote;
        Commit = Math.Min(Math.Max(hardState.Commit, snapshot?.Index ?? 0), _log.LastIndex);
        _applied = snapshot?.Index ?? 0;
        _releasableIndex = _applied;
        _persistedHardState = hardState.Clone();
        BecomeFollower(Term, 0);
    }

    /// <summary>This member's id.</summary>
    public ulong Id => _config.Id;

    /// <summary>The current term.</summary>
    public ulong Term { get; private set; }

    /// <summary>The member voted for in the current term (0 for none).</summary>
    public ulong Vote { get; private set; }

    /// <summary>The highest log index known to be committed.</summary>
    public ulong Commit { get; private set; }

    /// <summary>The current role.</summary>
    public RaftRole Role { get; private set; }

    /// <summary>The leader of the current term as far as this member knows (0 for none).</summary>
    public ulong Leader { get; private set; }

    /// <summary>Index of the last entry in the log.</summary>
    public ulong LastIndex => _log.LastIndex;

    /// <summary>Index of the last entry the host reported applied.</summary>
    public ulong AppliedIndex => _applied;

    /// <summary>The member leadership is being handed to (0 when no transfer is in progress).</summary>
    public ulong LeadTransferee { get; private set; }

    /// <summary>The membership configuration in effect (as of the applied index).</summary>
    public ConfState ConfState => _tracker.ConfState();

    /// <summary>True when this member is a voter and so may campaign.</summary>
    public bool IsPromotable => _tracker.IsVoter(Id);

    /// <summary>Advances logical time by one tick: followers time out elections, leaders send heartbeats.</summary>
    public void Tick()
    {
        if (Role == RaftRole.Leader) TickHeartbeat();
        else TickElection();
    }

    /// <summary>Starts an election now (with pre-vote first when configured). A single voter wins at once.</summary>
    public void Campaign() => StepLocal(new Message { Type = MessageType.MsgHup });

    /// <summary>Proposes an entry (takes ownership of <paramref name="data"/>); a follower forwards it to the leader.</summary>
    public ProposeResult Propose(ByteString data) =>
        ProposeEntry(new Entry { Type = EntryType.EntryNormal, Data = data });

    /// <summary>
    /// Proposes a membership change of one member. It takes effect when the host applies the entry
    /// (see <see cref="Advance"/>); a leader refuses a second change while one is not yet applied.
    /// </summary>
    public ProposeResult ProposeConfChange(ConfChange change)
    {
        ArgumentNullException.ThrowIfNull(change);
        return ProposeEntry(new Entry { Type = EntryType.EntryConfChange, Data = change.ToByteString() });
    }

    /// <summary>
    /// Asks for a linearizable read point. The answer arrives as a <see cref="ReadState"/> with the
    /// same <paramref name="context"/> (which must be unique among outstanding requests) once the
    /// leader has confirmed, by a heartbeat round to a quorum, that it still leads. False when no
    /// leader is known; the request may also be lost silently, so the host must time out.
    /// </summary>
    public bool ReadIndex(ByteString context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Role != RaftRole.Leader && Leader == 0) return false;
        StepLocal(new Message { Type = MessageType.MsgReadIndex, From = Id, Context = context });
        return true;
    }

    /// <summary>
    /// On the leader: how far <paramref name="peer"/>'s log is known to match the leader's (its
    /// acknowledged index) and the leader's own last index; null on other members or for an unknown peer.
    /// </summary>
    public (ulong Match, ulong LeaderLast)? ProgressOf(ulong peer)
    {
        if (Role != RaftRole.Leader) return null;
        foreach (var (id, progress) in _tracker.All)
        {
            if (id == peer) return (progress.Match, _log.LastIndex);
        }
        return null;
    }

    /// <summary>Asks the leader to hand leadership to <paramref name="transferee"/> (a voter).</summary>
    public void TransferLeader(ulong transferee) =>
        StepLocal(new Message { Type = MessageType.MsgTransferLeader, From = transferee });

    /// <summary>The host could not deliver a message to <paramref name="peer"/>: stop streaming to it optimistically.</summary>
    public void ReportUnreachable(ulong peer) =>
        StepLocal(new Message { Type = MessageType.MsgUnreachable, From = peer });

    /// <summary>
    /// The host learned that <paramref name="peer"/> is not running: its peer port refused a
    /// connection, as a crashed process's does (a cut-off or frozen one times out instead). A follower
    /// whose leader it is stops waiting for that leader: it forgets it, so it no longer turns
    /// candidates away for its sake (leader stickiness), and it campaigns after a short randomized
    /// delay of two to three heartbeats rather than a whole election timeout, and so again after a
    /// split vote, until it knows a leader. For an election timeout after the report, messages of
    /// the current term from the reported leader count as sent before it died (a restarted member
    /// never leads the term it left): their entries are kept, their leadership is not. The others,
    /// told the same by their own transports, grant it their votes; one that still hears from a
    /// leader does not, and the campaign fails as any other would. Votes decide either way: a wrong
    /// report keeps this follower from its leader for an election timeout and disturbs no one
    /// else. Reports about anyone but the leader are ignored.
    /// </summary>
    public void ReportPeerDown(ulong peer) => LeaderDown(peer);

    /// <summary>The host finished sending a snapshot to <paramref name="peer"/> (or failed to).</summary>
    public void ReportSnapshot(ulong peer, bool succeeded) =>
        StepLocal(new Message { Type = MessageType.MsgSnapStatus, From = peer, Reject = !succeeded });

    /// <summary>
    /// The host took a snapshot of its state machine (at an index it has applied). The core keeps it
    /// to catch up followers that need entries it no longer holds, and may release the entries the
    /// snapshot covers from memory (keeping <see cref="RaftConfig.RetainedEntries"/> behind it).
    /// </summary>
    public void Compact(Snapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var index = snapshot.Metadata.Index;
        if (index > _applied) throw new ArgumentException($"raft: snapshot at {index} is beyond the applied index {_applied}");
        if (_latestSnapshot is not null && _latestSnapshot.Metadata.Index >= index) return;
        _latestSnapshot = snapshot;
        _releasableIndex = Math.Max(_releasableIndex, index);
        ReleaseMemory();
    }

    /// <summary>
    /// Handles a message from a peer. Messages with a term are checked against ours first; local
    /// message kinds (election, beat, reports) are refused from the network.
    /// </summary>
    public void Step(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        switch (message.Type)
        {
            case MessageType.MsgHup or MessageType.MsgBeat or MessageType.MsgCheckQuorum
                or MessageType.MsgUnreachable or MessageType.MsgSnapStatus:
                return;
        }
        StepMessage(message);
    }

    /// <summary>The term of the entry at <paramref name="index"/> while it is in memory (for invariant checks in tests).</summary>
    internal bool TryGetTerm(ulong index, out ulong term) => _log.TryTerm(index, out term);

    /// <summary>The entry at <paramref name="index"/> while it is in memory (for invariant checks in tests).</summary>
    internal Entry? EntryAt(ulong index) =>
        index > _log.OffsetIndex && index <= _log.LastIndex ? _log.At(index) : null;

    /// <summary>The leader's view of each member, for diagnostics.</summary>
    internal string DescribeProgress()
    {
        var parts = new List<string>();
        foreach (var (id, pr) in _tracker.All) parts.Add($"{id}: {pr} paused={pr.IsPaused} active={pr.RecentActive} inflight={pr.Inflights.Count}");
        return string.Join("; ", parts);
    }

    /// <summary>The first index whose entry is still in memory.</summary>
    internal ulong FirstIndexInMemory => _log.OffsetIndex + 1;

    private ProposeResult ProposeEntry(Entry entry)
    {
        switch (Role)
        {
            case RaftRole.Leader:
                return AppendProposal(new[] { entry }, fromSelf: true) ? ProposeResult.Accepted : ProposeResult.Dropped;
            default:
                if (Leader == 0) return ProposeResult.Dropped;
                // Proposals forwarded before the next Ready travel in one message.
                if (_forwarding is null || _forwarding.To != Leader)
                {
                    _forwarding = new Message { Type = MessageType.MsgProp, To = Leader };
                    Send(_forwarding);
                }
                _forwarding.Entries.Add(entry);
                return ProposeResult.Forwarded;
        }
    }

    private void StepLocal(Message m) => StepMessage(m);

    private void Send(Message m)
    {
        m.From = Id;
        // Votes and pre-votes carry the term they are for; proposals and local kinds carry none.
        if (m.Type is not (MessageType.MsgVote or MessageType.MsgPreVote or MessageType.MsgVoteResp
            or MessageType.MsgPreVoteResp or MessageType.MsgProp or MessageType.MsgReadIndex))
        {
            m.Term = Term;
        }
        _messages.Add(m);
    }
}
