using System;
using System.Collections.Generic;
using Coordination.Raft.Protocol;

namespace Coordination.Raft;

public sealed partial class RaftNode
{
    /// <summary>True when <see cref="GetReady"/> has work for the host.</summary>
    public bool HasReady =>
        _messages.Count > 0
        || _appendsPending
        || _commitPending
        || _readStates.Count > 0
        || _log.HasUnhandedEntries
        || (_log.PendingSnapshot is not null && !_log.PendingSnapshotHandedOut)
        || Commit > Math.Max(_applied, _log.PendingSnapshot?.Metadata.Index ?? 0)
        || (Role == RaftRole.Leader && _reads.RoundToStart is not null)
        || HardStateChanged();

    /// <summary>Collects the work the host must do next (see <see cref="Ready"/>). Call <see cref="Advance"/> once it is done.</summary>
    public Ready GetReady()
    {
        FlushAppends();
        // Read requests that arrived since the last batch share one heartbeat round.
        if (Role == RaftRole.Leader && _reads.RoundToStart is not null) BroadcastHeartbeat();

        Snapshot? snapshot = null;
        if (_log.PendingSnapshot is not null && !_log.PendingSnapshotHandedOut)
        {
            snapshot = _log.PendingSnapshot;
            _log.MarkSnapshotHandedOut();
        }
        var entries = _log.TakeUnhanded();
        var appliedFrom = Math.Max(_applied, _log.PendingSnapshot?.Metadata.Index ?? 0);
        IReadOnlyList<Entry> committed = Commit > appliedFrom ? _log.Slice(appliedFrom + 1, Commit, long.MaxValue) : [];
        var hs = HardStateChanged() ? CurrentHardState() : null;
        var mustSync = snapshot is not null || entries.Count > 0
            || (hs is not null && (hs.Term != _persistedHardState.Term || hs.Vote != _persistedHardState.Vote));
        var messages = _messages;
        _messages = new List<Message>();
        _forwarding = null;
        var readStates = _readStates;
        _readStates = new List<ReadState>();
        return new Ready(hs, entries, committed, mustSync, messages, snapshot, readStates);
    }

    /// <summary>
    /// Tells the core the host finished a <see cref="Ready"/>: its snapshot, entries and hard state
    /// are durable and its committed entries applied. Configuration changes among those entries
    /// take effect now.
    /// </summary>
    public void Advance(Ready ready)
    {
        ArgumentNullException.ThrowIfNull(ready);
        if (ready.HardState is not null) _persistedHardState = ready.HardState;
        if (ready.Snapshot is { } snapshot)
        {
            _log.SnapshotStable(snapshot.Metadata.Index);
            _applied = Math.Max(_applied, snapshot.Metadata.Index);
            _releasableIndex = Math.Max(_releasableIndex, snapshot.Metadata.Index);
        }
        if (ready.Entries.Count > 0) _log.StableTo(ready.Entries[^1].Index, ready.Entries[^1].Term);
        for (var i = 0; i < ready.CommittedEntries.Count; i++)
        {
            var entry = ready.CommittedEntries[i];
            if (entry.Index <= _applied) continue;
            _applied = entry.Index;
            if (entry.Type == EntryType.EntryConfChange) ApplyConfChange(ConfChange.Parser.ParseFrom(entry.Data));
        }
        if (_transferCampaignDeferred && Role != RaftRole.Leader && !HasUnappliedConfChange())
        {
            _transferCampaignDeferred = false;
            Hup(transfer: true);
        }
        if (Role == RaftRole.Leader && _tracker.Get(Id) is { } self)
        {
            // The leader's own acknowledgement is its durable log, not what it merely appended.
            if (self.MaybeUpdate(_log.StableIndex) && MaybeCommit()) _commitPending = true;
        }
        ReleaseMemory();
    }

    /// <summary>
    /// Sends the appends deferred since the last Ready: to each follower what it is missing of the
    /// entries proposed meanwhile, or, when the commit index moved, at least the commit index. One
    /// message per follower replaces one per proposal and one per acknowledgement that advanced the
    /// commit; the host sees the same messages either way only at the next Ready.
    /// </summary>
    private void FlushAppends()
    {
        if (!_appendsPending && !_commitPending) return;
        var sendIfEmpty = _commitPending;
        _appendsPending = false;
        _commitPending = false;
        if (Role != RaftRole.Leader) return;
        foreach (var (id, pr) in _tracker.All)
        {
            if (id != Id) SendAppend(id, pr, sendIfEmpty);
        }
    }

    /// <summary>
    /// Releases entries that are stable, applied, covered by a snapshot the core can send, and
    /// more than <see cref="RaftConfig.RetainedEntries"/> behind the applied index.
    /// </summary>
    private void ReleaseMemory()
    {
        var upTo = Math.Min(Math.Min(_applied, _log.StableIndex), _releasableIndex);
        var keepFrom = _applied > (ulong)_config.RetainedEntries ? _applied - (ulong)_config.RetainedEntries : 0;
        upTo = Math.Min(upTo, keepFrom);
        _log.ReleaseTo(upTo);
    }

    private bool HardStateChanged() =>
        Term != _persistedHardState.Term || Vote != _persistedHardState.Vote || Commit != _persistedHardState.Commit;

    private HardState CurrentHardState() => new() { Term = Term, Vote = Vote, Commit = Commit };
}
