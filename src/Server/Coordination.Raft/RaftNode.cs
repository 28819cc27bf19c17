using System;
using System.Collections.Generic;
using Coordination.Raft.Protocol;

namespace Coordination.Raft;

/// <summary>
/// The consensus core: a pure, deterministic state machine. It does no I/O, starts no threads or
/// tasks and reads no clock. Time arrives through <see cref="Tick"/>, randomness from the seed in
/// <see cref="RaftConfig"/>, work leaves through <see cref="GetReady"/>. Single-threaded: the host
/// calls it from one loop.
/// </summary>
/// <remarks>
/// This version decides commitment for a cluster of one voter: an entry of the current term is
/// committed once the host reports it persisted. Multi-member replication (messages, votes from
/// peers, per-follower progress) extends this type without changing its host contract.
/// </remarks>
public sealed class RaftNode
{
    private readonly RaftConfig _config;
    private readonly RaftLog _log;
    private readonly Random _random;
    private HardState _persistedHardState;
    private ulong _appliedHandedOut;
    private int _electionElapsed;
    private int _randomizedElectionTimeout;

    /// <summary>Restores a member from what its storage holds.</summary>
    /// <param name="config">The member's configuration.</param>
    /// <param name="hardState">The last persisted hard state (empty for a new member).</param>
    /// <param name="snapshot">Metadata of the snapshot the state machine was restored from, if any.</param>
    /// <param name="entries">Persisted entries after the snapshot, in index order.</param>
    public RaftNode(RaftConfig config, HardState hardState, SnapshotMetadata? snapshot, IReadOnlyList<Entry> entries)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (config.Voters.Count != 1 || config.Voters[0] != config.Id)
            throw new NotSupportedException("raft: this consensus core decides commitment for a single voter only");
        _config = config;
        _random = new Random(config.Seed);
        _log = new RaftLog(snapshot?.Index ?? 0, snapshot?.Term ?? 0, entries);
        Term = hardState.Term;
        Vote = hardState.Vote;
        Commit = Math.Max(hardState.Commit, snapshot?.Index ?? 0);
        if (Commit > _log.LastIndex) Commit = _log.LastIndex;
        _appliedHandedOut = snapshot?.Index ?? 0;
        _persistedHardState = hardState.Clone();
        Role = RaftRole.Follower;
        ResetElectionTimeout();
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
    public ulong Leader => Role == RaftRole.Leader ? Id : 0;

    /// <summary>Index of the last entry in the log.</summary>
    public ulong LastIndex => _log.LastIndex;

    /// <summary>Index of the last entry handed to the host for applying.</summary>
    public ulong AppliedIndex => _appliedHandedOut;

    /// <summary>Advances logical time by one tick; a follower that heard from no leader campaigns.</summary>
    public void Tick()
    {
        if (Role == RaftRole.Leader) return;
        _electionElapsed++;
        if (_electionElapsed >= _randomizedElectionTimeout) Campaign();
    }

    /// <summary>Starts an election now. With a single voter the member wins at once.</summary>
    public void Campaign()
    {
        if (Role == RaftRole.Leader) return;
        Term++;
        Vote = Id;
        Role = RaftRole.Candidate;
        _electionElapsed = 0;
        ResetElectionTimeout();
        // Our own vote is a quorum of one.
        BecomeLeader();
    }

    /// <summary>Appends a proposal to the log when this member leads (takes ownership of <paramref name="data"/>).</summary>
    public ProposeResult Propose(Google.Protobuf.ByteString data)
    {
        if (Role != RaftRole.Leader) return ProposeResult.Dropped;
        _log.Append(new Entry { Term = Term, Index = _log.LastIndex + 1, Type = EntryType.EntryNormal, Data = data });
        return ProposeResult.Accepted;
    }

    /// <summary>True when <see cref="GetReady"/> has work for the host.</summary>
    public bool HasReady =>
        _log.LastIndex > Math.Max(_log.HandedOutIndex, _log.StableIndex)
        || Commit > _appliedHandedOut
        || HardStateChanged();

    /// <summary>Collects the work the host must do next. Call <see cref="Advance"/> once it is done.</summary>
    public Ready GetReady()
    {
        var entries = _log.TakeUnstable();
        var committed = Commit > _appliedHandedOut ? _log.Slice(_appliedHandedOut + 1, Commit) : new List<Entry>();
        var hs = HardStateChanged() ? CurrentHardState() : null;
        var mustSync = entries.Count > 0 || (hs is not null && (hs.Term != _persistedHardState.Term || hs.Vote != _persistedHardState.Vote));
        return new Ready(hs, entries, committed, mustSync);
    }

    /// <summary>Tells the core the host finished a <see cref="Ready"/>: its entries are persisted and its committed entries applied.</summary>
    public void Advance(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (ready.HardState is not null) _persistedHardState = ready.HardState;
        if (ready.Entries.Count > 0) _log.StableTo(ready.Entries[^1].Index);
        if (ready.CommittedEntries.Count > 0) _appliedHandedOut = ready.CommittedEntries[^1].Index;
        MaybeCommit();
        _log.ReleaseTo(_appliedHandedOut);
    }

    private void BecomeLeader()
    {
        Role = RaftRole.Leader;
        // A leader commits entries of earlier terms only through an entry of its own term.
        _log.Append(new Entry { Term = Term, Index = _log.LastIndex + 1, Type = EntryType.EntryNormal });
        MaybeCommit();
    }

    private void MaybeCommit()
    {
        if (Role != RaftRole.Leader) return;
        // Quorum of one: the stable prefix is replicated on a majority.
        var candidate = _log.StableIndex;
        if (candidate > Commit && _log.Term(candidate) == Term) Commit = candidate;
    }

    private bool HardStateChanged() =>
        Term != _persistedHardState.Term || Vote != _persistedHardState.Vote || Commit != _persistedHardState.Commit;

    private HardState CurrentHardState() => new() { Term = Term, Vote = Vote, Commit = Commit };

    private void ResetElectionTimeout() =>
        _randomizedElectionTimeout = _config.ElectionTicks + _random.Next(_config.ElectionTicks);
}
