using System;
using Coordination.Raft.Protocol;
using Coordination.Raft.Tracker;
using Google.Protobuf;

namespace Coordination.Raft;

public sealed partial class RaftNode
{
    /// <summary>Sends every other member what it is missing (or at least the commit index).</summary>
    private void BroadcastAppend()
    {
        foreach (var (id, pr) in _tracker.All)
        {
            if (id != Id) SendAppend(id, pr, sendIfEmpty: true);
        }
    }

    /// <summary>
    /// Sends one append message to <paramref name="to"/> with entries from its next index, or a
    /// snapshot when those entries were released from memory. False when nothing was sent (the
    /// member is paused by flow control, or there is nothing to send and <paramref name="sendIfEmpty"/> is false).
    /// </summary>
    private bool SendAppend(ulong to, Progress pr, bool sendIfEmpty)
    {
        if (pr.IsPaused) return false;
        var prevIndex = pr.Next - 1;
        if (!_log.TryTerm(prevIndex, out var prevTerm) || prevIndex < _log.OffsetIndex) return SendSnapshot(to, pr);
        if (pr.Next > _log.LastIndex && !sendIfEmpty) return false;
        var m = new Message
        {
            To = to, Type = MessageType.MsgApp, Index = prevIndex, LogTerm = prevTerm, Commit = Commit,
        };
        var sent = pr.Next <= _log.LastIndex ? _log.SliceInto(m.Entries, pr.Next, _log.LastIndex, _config.MaxMessageBytes) : 0;
        Send(m);
        pr.SentEntries(sent, sent > 0 ? m.Entries[^1].Index : prevIndex);
        return true;
    }

    private bool SendSnapshot(ulong to, Progress pr)
    {
        if (!pr.RecentActive) return false;
        // Entries before the offset are covered by the latest snapshot; without its image (a
        // restart before the host handed it back through Compact) the member has to wait.
        if (_latestSnapshot is null || _latestSnapshot.Metadata.Index < _log.OffsetIndex) return false;
        Send(new Message { To = to, Type = MessageType.MsgSnap, Snapshot = _latestSnapshot });
        pr.BecomeSnapshot(_latestSnapshot.Metadata.Index);
        return true;
    }

    private void BroadcastHeartbeat()
    {
        var context = _reads.LastContext ?? ByteString.Empty;
        foreach (var (id, pr) in _tracker.All)
        {
            if (id != Id) SendHeartbeat(id, pr, context);
        }
        _reads.RoundStarted();
    }

    private void SendHeartbeat(ulong to, Progress pr, ByteString context)
    {
        // Never tell a follower a commit index beyond what it is known to hold: it would not
        // know whether its own entries there are the leader's.
        var commit = Math.Min(pr.Match, Commit);
        Send(new Message { To = to, Type = MessageType.MsgHeartbeat, Commit = commit, Context = context });
    }
}
