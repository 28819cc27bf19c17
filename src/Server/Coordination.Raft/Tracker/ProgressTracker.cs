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
    private readonly SortedSet<ulong> _voters = new();
    private readonly SortedSet<ulong> _learners = new();
    private readonly SortedDictionary<ulong, Progress> _progress = new();
    private readonly Dictionary<ulong, bool> _votes = new();

    public ProgressTracker(int maxInflight) => _maxInflight = maxInflight;

    /// <summary>The voting members.</summary>
    public IReadOnlyCollection<ulong> Voters => _voters;

    /// <summary>The non-voting members.</summary>
    public IReadOnlyCollection<ulong> Learners => _learners;

    /// <summary>Every member's progress, voters and learners, in id order.</summary>
    public IEnumerable<KeyValuePair<ulong, Progress>> All => _progress;

    /// <summary>The progress of <paramref name="id"/>, or null when it is not a member.</summary>
    public Progress? Get(ulong id) => _progress.TryGetValue(id, out var pr) ? pr : null;

    /// <summary>True when <paramref name="id"/> may vote.</summary>
    public bool IsVoter(ulong id) => _voters.Contains(id);

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
        _voters.Add(id);
        if (_progress.TryGetValue(id, out var pr)) pr.IsLearner = false;
        else _progress[id] = new Progress(next, _maxInflight, isLearner: false) { RecentActive = true };
    }

    /// <summary>Adds a learner (a voter is never demoted this way).</summary>
    public void AddLearner(ulong id, ulong next)
    {
        if (_voters.Contains(id)) return;
        _learners.Add(id);
        if (!_progress.ContainsKey(id)) _progress[id] = new Progress(next, _maxInflight, isLearner: true) { RecentActive = true };
    }

    /// <summary>Removes a member.</summary>
    public void Remove(ulong id)
    {
        _voters.Remove(id);
        _learners.Remove(id);
        _progress.Remove(id);
        _votes.Remove(id);
    }

    /// <summary>Forgets every member's progress: each restarts probing at <paramref name="next"/>.</summary>
    public void ResetProgress(ulong next)
    {
        foreach (var id in new List<ulong>(_progress.Keys))
        {
            var learner = _progress[id].IsLearner;
            _progress[id] = new Progress(next, _maxInflight, learner);
        }
    }

    /// <summary>The highest index a majority of voters has acknowledged.</summary>
    public ulong CommittedIndex() => MajorityConfig.CommittedIndex(_voters, id => _progress[id].Match);

    /// <summary>True when a majority of voters was heard from since the last check.</summary>
    public bool QuorumActive(ulong self) => MajorityConfig.HasQuorum(_voters, id => id == self || _progress[id].RecentActive);

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
}
