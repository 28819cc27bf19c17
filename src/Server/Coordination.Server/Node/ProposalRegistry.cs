using System.Collections.Concurrent;
using Coordination.Server.StateMachine;

namespace Coordination.Server.Node;

/// <summary>
/// Matches applied proposals with the callers waiting for them (etcd's <c>wait</c> package):
/// a caller registers an id before proposing and is completed when the entry carrying that id
/// has been applied, or with an error when its deadline passes first (<see cref="ExpireDue"/>).
/// </summary>
internal sealed class ProposalRegistry
{
    private readonly ConcurrentDictionary<ulong, Waiter> _waiting = new();
    private long _nextId;

    /// <summary>
    /// Ids are unique across members and restarts, as etcd's are: the low two bytes of the member id,
    /// then the start time in milliseconds (five bytes), then a counter that carries into the time.
    /// Another member applying this member's proposal finds no waiter of its own under that id.
    /// </summary>
    public ProposalRegistry(ulong memberId = 0, DateTimeOffset? startedAt = null)
    {
        var millis = (ulong)(startedAt ?? DateTimeOffset.UnixEpoch).ToUnixTimeMilliseconds() & 0xFF_FFFF_FFFFUL;
        _nextId = (long)(((memberId & 0xFFFF) << 48) | (millis << 8));
    }

    /// <summary>
    /// Allocates a fresh proposal id and the task that completes when it is applied, or fails once
    /// <see cref="ExpireDue"/> is called at or after <paramref name="deadline"/> (a timestamp; the
    /// default, never).
    /// </summary>
    public (ulong Id, Task<ApplyResult> Applied) Register(long deadline = long.MaxValue)
    {
        var id = (ulong)Interlocked.Increment(ref _nextId);
        var waiter = new Waiter(deadline);
        _waiting[id] = waiter;
        return (id, waiter.Task);
    }

    /// <summary>
    /// Fails, with <paramref name="error"/>, every waiter whose deadline is at or before
    /// <paramref name="now"/>. One sweep on the node loop's tick replaces a timer per request.
    /// </summary>
    public void ExpireDue(long now, Func<Exception> error)
    {
        foreach (var (id, waiter) in _waiting)
        {
            if (waiter.Deadline <= now && _waiting.TryRemove(id, out _)) waiter.TrySetException(error());
        }
    }

    /// <summary>Completes the waiter of <paramref name="id"/>, if any (proposals from before a restart have none).</summary>
    public void Complete(ulong id, ApplyResult result)
    {
        if (id != 0 && _waiting.TryRemove(id, out var tcs)) tcs.TrySetResult(result);
    }

    /// <summary>Fails the waiter of <paramref name="id"/> with <paramref name="error"/>.</summary>
    public void Fail(ulong id, Exception error)
    {
        if (_waiting.TryRemove(id, out var tcs)) tcs.TrySetException(error);
    }

    /// <summary>Forgets a waiter whose caller gave up; the proposal may still be applied.</summary>
    public void Forget(ulong id) => _waiting.TryRemove(id, out _);

    /// <summary>Fails every waiter (on shutdown).</summary>
    public void FailAll(Exception error)
    {
        foreach (var id in _waiting.Keys) Fail(id, error);
    }

    private sealed class Waiter(long deadline) : TaskCompletionSource<ApplyResult>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public long Deadline { get; } = deadline;
    }
}
