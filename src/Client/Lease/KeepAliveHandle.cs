namespace Coordination.Client.Lease;

/// <summary>What <see cref="ILeaseClient.KeepAliveAsync"/> returns: a view of one kept lease; disposing it releases the lease from the hub.</summary>
internal sealed class KeepAliveHandle(LeaseKeepAliveHub hub, long id, long ttlSeconds, DateTimeOffset deadline) : ILeaseKeepAlive
{
    private readonly TaskCompletionSource<KeptLease> _entry = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _lost = new();
    private int _disposed;

    public long LeaseId { get; } = id;

    public long TtlSeconds { get; } = ttlSeconds;

    public DateTimeOffset InitialDeadline { get; } = deadline;

    public CancellationToken LeaseLost => _lost.Token;

    public DateTimeOffset Deadline => _entry.Task.IsCompletedSuccessfully ? _entry.Task.Result.Deadline : InitialDeadline;

    public void Attach(KeptLease entry)
    {
        if (_entry.TrySetResult(entry))
        {
            entry.Lost.Token.Register(static s => ((CancellationTokenSource)s!).Cancel(), _lost);
            if (entry.Lost.IsCancellationRequested)
            {
                _lost.Cancel();
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            hub.Release(this);
        }

        return ValueTask.CompletedTask;
    }
}
