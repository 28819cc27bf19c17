using System.Collections.Concurrent;
using Coordination.Server.StateMachine;

namespace Coordination.Server.Node;

/// <summary>
/// Matches applied proposals with the callers waiting for them (etcd's <c>wait</c> package):
/// a caller registers an id before proposing and is completed when the entry carrying that id
/// has been applied.
/// </summary>
internal sealed class ProposalRegistry
{
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<ApplyResult>> _waiting = new();
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

    /// <summary>Allocates a fresh proposal id and the task that completes when it is applied.</summary>
    public (ulong Id, Task<ApplyResult> Applied) Register()
    {
        var id = (ulong)Interlocked.Increment(ref _nextId);
        var tcs = new TaskCompletionSource<ApplyResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[id] = tcs;
        return (id, tcs.Task);
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
}
