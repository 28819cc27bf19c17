using System;
using System.Collections.Generic;
using Coordination.Raft.Protocol;
using Coordination.Raft.Quorum;

namespace Coordination.Raft.Tracker;

/// <summary>
/// The membership configuration (voters and learners) and, on a leader, the progress of every
/// member; on a candidate, the votes received. Members are kept in id order so iteration, and with
/// it the order of outgoing messages, is deterministic.
/// </summary>
internal sealed class ProgressTracker
{
    private readonly int _maxInflight;
    // Sorted lists rather than sorted sets and dictionaries: a cluster has a handful of members, and
    // the leader walks them for every append and acknowledgement, which must not allocate (a
    // SortedSet or SortedDictionary enumerator allocates a stack on every walk).
    private readonly List<ulong> _voters = new();
    private readonly List<ulong> _learners = new();
    private readonly List<KeyValuePair<ulong, Progress>> _progress = new();
    private readonly Dictionary<ulong, bool> _votes = new();

    public ProgressTracker(int maxInflight) => _maxInflight = maxInflight;

    /// <summary>The voting members, in id order.</summary>
    public IReadOnlyList<ulong> Voters => _voters;

    /// <summary>The non-voting members, in id order.</summary>
    public IReadOnlyList<ulong> Learners => _learners;

    /// <summary>Every member's progress, voters and learners, in id order (walk it with foreach; it must not change meanwhile).</summary>
    public Members All => new(_progress);

    /// <summary>The progress of <paramref name="id"/>, or null when it is not a member.</summary>
    public Progress? Get(ulong id)
    {
        var i = IndexOf(id);
        return i >= 0 ? _progress[i].Value : null;
    }

    /// <summary>True when <paramref name="id"/> may vote.</summary>
    public bool IsVoter(ulong id) => _voters.BinarySearch(id) >= 0;

    /// <summary>The configuration as it is persisted in snapshots.</summary>
    public ConfState ConfState()
    {
        var cs = new ConfState();
        cs.Voters.AddRange(_voters);
        cs.Learners.AddRange(_learners);
        return cs;
    }

    /// <summary>Replaces the configuration; new members start probing at <paramref name="next"/>.</summary>
    public void Restore(ConfState cs, ulong next)
    {
        _voters.Clear();
        _learners.Clear();
        _progress.Clear();
        foreach (var id in cs.Voters) AddVoter(id, next);
        foreach (var id in cs.Learners) AddLearner(id, next);
    }

    /// <summary>Adds a voter, or promotes a learner.</summary>
    public void AddVoter(ulong id, ulong next)
    {
        _learners.Remove(id);
        AddSorted(_voters, id);
        if (Get(id) is { } pr) pr.IsLearner = false;
        else SetProgress(id, new Progress(next, _maxInflight, isLearner: false) { RecentActive = true });
    }

    /// <summary>Adds a learner (a voter is never demoted this way).</summary>
    public void AddLearner(ulong id, ulong next)
    {
        if (IsVoter(id)) return;
        AddSorted(_learners, id);
        if (Get(id) is null) SetProgress(id, new Progress(next, _maxInflight, isLearner: true) { RecentActive = true });
    }

    /// <summary>Removes a member.</summary>
    public void Remove(ulong id)
    {
        _voters.Remove(id);
        _learners.Remove(id);
        var i = IndexOf(id);
        if (i >= 0) _progress.RemoveAt(i);
        _votes.Remove(id);
    }

    /// <summary>Forgets every member's progress: each restarts probing at <paramref name="next"/>.</summary>
    public void ResetProgress(ulong next)
    {
        for (var i = 0; i < _progress.Count; i++)
        {
            var (id, pr) = _progress[i];
            _progress[i] = new(id, new Progress(next, _maxInflight, pr.IsLearner));
        }
    }

    /// <summary>The highest index a majority of voters has acknowledged.</summary>
    public ulong CommittedIndex()
    {
        Span<ulong> acks = _voters.Count <= 16 ? stackalloc ulong[_voters.Count] : new ulong[_voters.Count];
        for (var i = 0; i < _voters.Count; i++) acks[i] = Get(_voters[i])!.Match;
        return MajorityConfig.CommittedIndex(acks);
    }

    /// <summary>True when a majority of voters was heard from since the last check.</summary>
    public bool QuorumActive(ulong self)
    {
        var active = 0;
        foreach (var id in _voters) if (id == self || Get(id)!.RecentActive) active++;
        return MajorityConfig.IsQuorum(active, _voters.Count);
    }

    /// <summary>True when the voters among <paramref name="members"/> form a majority.</summary>
    public bool IsQuorum(HashSet<ulong> members)
    {
        var count = 0;
        foreach (var id in _voters) if (members.Contains(id)) count++;
        return MajorityConfig.IsQuorum(count, _voters.Count);
    }

    /// <summary>Clears the activity flags for the next check-quorum round (the leader itself stays active).</summary>
    public void ResetRecentActive(ulong self)
    {
        foreach (var (id, pr) in _progress) pr.RecentActive = id == self;
    }

    /// <summary>Forgets the votes of the last election.</summary>
    public void ResetVotes() => _votes.Clear();

    /// <summary>Records a voter's answer (the first answer counts) and returns the tally.</summary>
    public VoteResult RecordVote(ulong id, bool granted)
    {
        _votes.TryAdd(id, granted);
        return MajorityConfig.Tally(_voters, _votes);
    }

    private int IndexOf(ulong id)
    {
        for (var i = 0; i < _progress.Count; i++)
        {
            if (_progress[i].Key == id) return i;
        }
        return -1;
    }

    private void SetProgress(ulong id, Progress pr)
    {
        var at = 0;
        while (at < _progress.Count && _progress[at].Key < id) at++;
        _progress.Insert(at, new(id, pr));
    }

    private static void AddSorted(List<ulong> ids, ulong id)
    {
        var at = ids.BinarySearch(id);
        if (at < 0) ids.Insert(~at, id);
    }

    /// <summary>The members' progress in id order; its enumerator is a struct, so a foreach allocates nothing.</summary>
    public readonly struct Members(List<KeyValuePair<ulong, Progress>> progress)
    {
        public List<KeyValuePair<ulong, Progress>>.Enumerator GetEnumerator() => progress.GetEnumerator();
    }
}
