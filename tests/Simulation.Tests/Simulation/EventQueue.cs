namespace Coordination.Simulation.Tests.Simulation;

/// <summary>
/// Virtual time: a queue of actions ordered by (time, insertion order), so equal times run in a
/// deterministic order. Nothing in the simulation reads a real clock.
/// </summary>
public sealed class EventQueue
{
    private readonly PriorityQueue<Action, (long Time, long Seq)> _queue = new();
    private long _seq;

    /// <summary>The current virtual time in milliseconds.</summary>
    public long Now { get; private set; }

    /// <summary>Runs <paramref name="action"/> after <paramref name="delayMs"/>.</summary>
    public void After(long delayMs, Action action) => _queue.Enqueue(action, (Now + Math.Max(0, delayMs), _seq++));

    /// <summary>Runs <paramref name="action"/> at <paramref name="time"/> (or now, if that has passed).</summary>
    public void At(long time, Action action) => _queue.Enqueue(action, (Math.Max(Now, time), _seq++));

    /// <summary>Runs events in order until <paramref name="until"/>, until <paramref name="maxEvents"/> ran, or until <paramref name="stop"/> says so; returns the number run.</summary>
    public long RunUntil(long until, long maxEvents = long.MaxValue, Func<bool>? stop = null)
    {
        long count = 0;
        while (_queue.TryPeek(out _, out var at) && at.Time <= until)
        {
            if (count >= maxEvents || (stop is not null && stop())) return count;
            var action = _queue.Dequeue();
            Now = at.Time;
            action();
            count++;
        }
        Now = until;
        return count;
    }
}
