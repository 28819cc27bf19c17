using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Etcdserverpb;

namespace Coordination.Client.Watch;

/// <summary>
/// One watch as the hub sees it: the create request to (re)send, the next revision it must deliver,
/// its server-side id on the current stream, and the channel its batches go to.
/// </summary>
internal sealed class Watcher : IWatchSubscription
{
    private readonly WatchHub _hub;
    private readonly Channel<WatchBatch> _batches = Channel.CreateUnbounded<WatchBatch>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly TaskCompletionSource<long> _created = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _enumerated;
    private int _disposed;

    public Watcher(WatchHub hub, WatchCreateRequest create)
    {
        _hub = hub;
        Create = create;
        NextRevision = create.StartRevision;
    }

    /// <summary>The create request as the user asked it; <see cref="CreateRequest"/> resumes it.</summary>
    public WatchCreateRequest Create { get; }

    /// <summary>The lowest revision not yet delivered; 0 until created for a watch "from now".</summary>
    public long NextRevision { get; set; }

    /// <summary>Creations refused for an invalid auth token since the last success (bounded re-authentication).</summary>
    public int AuthRefusals { get; set; }

    /// <summary>The id on the current stream, or null while not created on it.</summary>
    public long? ServerId { get; set; }

    public bool Unsubscribed => Volatile.Read(ref _disposed) != 0;

    public Task<long> Created => _created.Task;

    public long CreatedRevision => _created.Task.IsCompletedSuccessfully ? _created.Task.Result : 0;

    /// <summary>The request that (re)creates this watch from <see cref="NextRevision"/>.</summary>
    public WatchRequest CreateRequest()
    {
        var create = Create.Clone();
        create.StartRevision = NextRevision;
        return new WatchRequest { CreateRequest = create };
    }

    public void OnCreated(long headerRevision)
    {
        if (NextRevision == 0)
        {
            NextRevision = headerRevision + 1;
        }

        _created.TrySetResult(headerRevision);
    }

    public void Deliver(WatchBatch batch) => _batches.Writer.TryWrite(batch);

    public void Fail(Exception error)
    {
        _created.TrySetException(error);
        _batches.Writer.TryComplete(error);
    }

    public void Complete()
    {
        _created.TrySetCanceled();
        _batches.Writer.TryComplete();
    }

    public async IAsyncEnumerator<WatchBatch> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _enumerated, 1) != 0)
        {
            throw new InvalidOperationException("A watch subscription can be enumerated once.");
        }

        await foreach (var batch in _batches.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return batch;
        }
    }

    public async IAsyncEnumerable<WatchEvent> EventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var batch in this.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            foreach (var e in batch.Events)
            {
                yield return e;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _hub.Unsubscribe(this);
        }

        return ValueTask.CompletedTask;
    }
}
