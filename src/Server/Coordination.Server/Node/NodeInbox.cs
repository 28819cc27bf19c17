using System.Collections.Concurrent;

namespace Coordination.Server.Node;

/// <summary>
/// The node loop's inbox: many writers (request threads, the ticker, the peer transport), one
/// reader (the node loop's own thread). The reader spins, then yields, before it sleeps: on a
/// virtual machine, waking a sleeping thread on an idle core costs from tens of microseconds to a
/// millisecond and more, as much as a whole 1-client put spends in the loop, while the next request
/// of a busy client arrives a few tens of microseconds after the last reply. Measured with one
/// client putting (docs/benchmarks.md): the loop picked a proposal up after 17 µs at the median
/// and 1.7 ms at p99 with a short spin (35), 4 µs and 31 µs with this one.
/// </summary>
internal sealed class NodeInbox
{
    /// <summary>Iterations of <see cref="ManualResetEventSlim"/>'s spin-then-yield wait (its maximum is 2047).</summary>
    private const int SpinCount = 2000;

    private readonly ConcurrentQueue<object?> _queue = new();
    private readonly ManualResetEventSlim _signal = new(false, SpinCount);
    private volatile bool _completed;

    /// <summary>Queues an item (null is a tick); false once the inbox is completed.</summary>
    public bool TryWrite(object? item)
    {
        if (_completed) return false;
        _queue.Enqueue(item);
        _signal.Set();
        return true;
    }

    /// <summary>Takes the oldest item, if any (reader only).</summary>
    public bool TryRead(out object? item) => _queue.TryDequeue(out item);

    /// <summary>
    /// Waits until an item is queued (reader only); false when the inbox was completed and is empty.
    /// Throws when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public bool WaitToRead(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (!_queue.IsEmpty) return true;
            if (_completed) return false;
            _signal.Reset();
            // An item queued between the check above and the reset set the signal before the reset:
            // look again before sleeping.
            if (!_queue.IsEmpty) return true;
            if (_completed) return false;
            _signal.Wait(cancellationToken);
        }
    }

    /// <summary>Refuses further items and wakes the reader.</summary>
    public void Complete()
    {
        _completed = true;
        _signal.Set();
    }
}
