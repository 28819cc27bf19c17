using System.Collections.Generic;
using Coordination.Raft.Protocol;
using Google.Protobuf;

namespace Coordination.Raft;

/// <summary>
/// The leader's queue of linearizable read requests waiting for a heartbeat round to confirm it is
/// still the leader. Each request remembers the commit index when it arrived; a quorum of
/// acknowledgements for a request's context confirms it and every request queued before it.
/// Requests that arrive between two rounds share the next round (batching).
/// </summary>
internal sealed class ReadOnlyRequests
{
    private readonly Dictionary<ByteString, Pending> _byContext = new();
    private readonly LinkedList<Pending> _queue = new();

    /// <summary>The context the next heartbeat round must carry, or null when no round is needed.</summary>
    public ByteString? RoundToStart { get; private set; }

    /// <summary>The context of the newest waiting request (heartbeats carry it until it is confirmed), or null.</summary>
    public ByteString? LastContext => _queue.Last?.Value.Request.Context;

    /// <summary>Number of requests waiting.</summary>
    public int Count => _queue.Count;

    /// <summary>Queues a request (from the local host or a follower) at <paramref name="commitIndex"/>; duplicates are ignored.</summary>
    public void Add(ulong commitIndex, Message request, ulong self)
    {
        if (_byContext.ContainsKey(request.Context)) return;
        var p = new Pending(commitIndex, request);
        p.Acks.Add(self);
        _byContext[request.Context] = p;
        _queue.AddLast(p);
        RoundToStart = request.Context;
    }

    /// <summary>Marks the pending round as started (its heartbeats are sent).</summary>
    public void RoundStarted() => RoundToStart = null;

    /// <summary>Records that <paramref name="from"/> acknowledged the heartbeat carrying <paramref name="context"/>.</summary>
    public HashSet<ulong>? Acknowledge(ulong from, ByteString context)
    {
        if (!_byContext.TryGetValue(context, out var p)) return null;
        p.Acks.Add(from);
        return p.Acks;
    }

    /// <summary>Removes and returns the confirmed request with <paramref name="context"/> and every earlier one.</summary>
    public List<(ulong Index, Message Request)> ReleaseThrough(ByteString context)
    {
        var released = new List<(ulong, Message)>();
        if (!_byContext.ContainsKey(context)) return released;
        while (_queue.First is { } node)
        {
            _queue.RemoveFirst();
            _byContext.Remove(node.Value.Request.Context);
            released.Add((node.Value.Index, node.Value.Request));
            if (node.Value.Request.Context.Equals(context)) break;
        }
        return released;
    }

    /// <summary>Drops every request (leadership was lost; the requesters time out and retry).</summary>
    public void Clear()
    {
        _byContext.Clear();
        _queue.Clear();
        RoundToStart = null;
    }

    private sealed class Pending(ulong index, Message request)
    {
        public ulong Index { get; } = index;
        public Message Request { get; } = request;
        public HashSet<ulong> Acks { get; } = new();
    }
}
