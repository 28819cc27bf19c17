using System.Threading.Channels;
using Etcdserverpb;

namespace Coordination.Server.Watch;

/// <summary>
/// One client watch stream (etcd's watchStream): its watchers by id and the single bounded buffer
/// of responses they share. The hub fills the buffer without ever waiting; the stream's consumer
/// (the gRPC send loop) drains it with <see cref="ReadAsync"/>. Watcher bookkeeping here is
/// guarded by the hub's lock.
/// </summary>
internal sealed class WatchStream : IDisposable
{
    private readonly WatchHub _hub;
    private readonly Channel<WatchOutbound> _out = Channel.CreateUnbounded<WatchOutbound>(new UnboundedChannelOptions { SingleReader = true });
    private readonly int _capacity;
    private int _buffered;
    private long _nextAutoId;
    private ITimer? _progressTimer;
    private bool _disposed;

    internal WatchStream(WatchHub hub, int capacity)
    {
        _hub = hub;
        _capacity = capacity;
    }

    /// <summary>The stream's watchers by id, including compacted ones until the client cancels them (as etcd).</summary>
    internal Dictionary<long, Watcher> Watchers { get; } = [];

    /// <summary>How many of the stream's watchers are catching up.</summary>
    internal int UnsyncedCount { get; set; }

    /// <summary>True when a progress request waits for every watcher to be synced.</summary>
    internal bool ProgressRequested { get; set; }

    /// <summary>True when the buffer holds as many event responses as it may.</summary>
    internal bool IsFull => Volatile.Read(ref _buffered) >= _capacity;

    /// <summary>Creates a watcher (or queues the create's error response).</summary>
    public void Create(WatchCreateRequest request) => _hub.Create(this, request);

    /// <summary>Answers a create that may not proceed (for example for lack of permission): created and canceled, watch id -1, with <paramref name="reason"/>.</summary>
    public void Refuse(string reason) => _hub.Refuse(this, reason);

    /// <summary>Cancels a watcher; an unknown id gets no response, as in etcd.</summary>
    public void Cancel(long watchId) => _hub.Cancel(this, watchId);

    /// <summary>Asks for a progress notification (sent once every watcher on the stream is synced).</summary>
    public void RequestProgress() => _hub.RequestProgress(this);

    /// <summary>Waits for the next response; null once the stream is closed.</summary>
    public async ValueTask<WatchOutbound?> ReadAsync(CancellationToken cancellationToken)
    {
        while (await _out.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (TryRead(out WatchOutbound item))
            {
                return item;
            }
        }

        return null;
    }

    /// <summary>Takes the next response if one is already queued (lets the sender batch its flushes).</summary>
    public bool TryRead(out WatchOutbound item)
    {
        if (!_out.Reader.TryRead(out item))
        {
            return false;
        }

        if (item.Buffered && Interlocked.Decrement(ref _buffered) == _capacity / 2)
        {
            // Room again: watchers that fell behind on this stream may continue catching up.
            _hub.OnStreamDrained(this);
        }

        return true;
    }

    /// <summary>Closes the stream and removes its watchers from the hub.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _hub.CloseStream(this);
        _out.Writer.TryComplete();
    }

    /// <summary>Picks the next free automatic id (from 0 upward, skipping ids in use).</summary>
    internal long NextAutoId()
    {
        while (Watchers.ContainsKey(_nextAutoId))
        {
            _nextAutoId++;
        }

        return _nextAutoId++;
    }

    /// <summary>Queues an event response unless the buffer is full.</summary>
    internal bool TryEnqueueEvents(WatchResponse response, bool fragment)
    {
        if (Volatile.Read(ref _buffered) >= _capacity)
        {
            return false;
        }

        EnqueueEvents(response, fragment);
        return true;
    }

    /// <summary>Queues an event response, counting it against the bound even when that overshoots it (catch-up).</summary>
    internal void EnqueueEvents(WatchResponse response, bool fragment)
    {
        Interlocked.Increment(ref _buffered);
        _out.Writer.TryWrite(new WatchOutbound(response, Buffered: true, fragment));
    }

    /// <summary>Queues a control response.</summary>
    internal void EnqueueControl(WatchResponse response) =>
        _out.Writer.TryWrite(new WatchOutbound(response, Buffered: false, Fragment: false));

    /// <summary>Stops the progress ticks (the stream is closing).</summary>
    internal void StopProgressTimer()
    {
        _progressTimer?.Dispose();
        _progressTimer = null;
    }

    /// <summary>Starts the progress ticks the first time a watcher asks for them.</summary>
    internal void EnsureProgressTimer(TimeProvider time, TimeSpan interval)
    {
        _progressTimer ??= time.CreateTimer(static state => ((WatchStream)state!)._hub.ProgressTick((WatchStream)state), this, interval, interval);
    }
}
