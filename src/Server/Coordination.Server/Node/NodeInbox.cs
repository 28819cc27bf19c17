using System.Collections.Concurrent;

namespace Coordination.Server.Node;

/// <summary>
/// The node loop's inbox: many writers (request threads, the ticker, the peer transport), one
/// reader (the node loop's own thread). While the loop is busy, the reader spins, then yields,
/// before it sleeps: on a virtual machine, waking a sleeping thread on an idle core costs from tens
/// of microseconds to a millisecond and more, as much as a whole 1-client put spends in the loop,
/// while the next request of a busy client arrives a few tens of microseconds after the last reply.
/// Measured with one client putting (docs/benchmarks.md): the loop picked a proposal up after 17 µs
/// at the median and 1.7 ms at p99 with a short spin (35), 4 µs and 31 µs with this one.
/// A spin costs a few milliseconds of CPU when nothing comes, so the reader spins only after
/// <see cref="ShortWaitsToSpin"/> waits in a row that ended within <see cref="ShortWait"/>: an idle
/// member, woken by ticks and heartbeats tens of milliseconds apart, sleeps at once (it spun after
/// every one of them and took 4-5% of a core; etcd's idle members take ~1.5%).
/// </summary>
internal sealed class NodeInbox
{
    /// <summary>Iterations of the spin-then-yield wait (as <see cref="ManualResetEventSlim"/>'s, whose maximum is 2047).</summary>
    private const int SpinCount = 2000;

    /// <summary>Waits in a row, each ended within <see cref="ShortWait"/>, after which the reader spins.</summary>
    internal const int ShortWaitsToSpin = 3;

    /// <summary>A wait this short could have been caught by a spin.</summary>
    internal static readonly TimeSpan ShortWait = TimeSpan.FromMilliseconds(1);

    private readonly ConcurrentQueue<object?> _queue = new();
    private readonly ManualResetEventSlim _signal = new(false, spinCount: 0);
    private readonly TimeProvider _time;
    private volatile bool _completed;
    // Reader only: how many waits in a row were short (capped at ShortWaitsToSpin).
    private int _shortWaits;

    /// <summary>Creates an inbox whose reader times its waits with <paramref name="time"/> (the system clock by default).</summary>
    public NodeInbox(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>Whether the reader's next wait spins before it sleeps.</summary>
    internal bool Spins => _shortWaits >= ShortWaitsToSpin;

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
        if (!_queue.IsEmpty)
        {
            CountWait(isShort: true);
            return true;
        }
        if (_completed) return false;
        var started = _time.GetTimestamp();
        if (!Spins || !SpinUntilQueued())
        {
            while (_queue.IsEmpty)
            {
                if (_completed) return false;
                _signal.Reset();
                // An item queued between the check above and the reset set the signal before the reset:
                // look again before sleeping.
                if (!_queue.IsEmpty) break;
                if (_completed) return false;
                _signal.Wait(cancellationToken);
            }
        }
        CountWait(isShort: _time.GetElapsedTime(started) <= ShortWait);
        return true;
    }

    /// <summary>Refuses further items and wakes the reader.</summary>
    public void Complete()
    {
        _completed = true;
        _signal.Set();
    }

    private bool SpinUntilQueued()
    {
        var spinner = new SpinWait();
        while (spinner.Count < SpinCount)
        {
            spinner.SpinOnce(sleep1Threshold: -1);
            if (!_queue.IsEmpty) return true;
        }
        return false;
    }

    private void CountWait(bool isShort) => _shortWaits = isShort ? Math.Min(_shortWaits + 1, ShortWaitsToSpin) : 0;
}
