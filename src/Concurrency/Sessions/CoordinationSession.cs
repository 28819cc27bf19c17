using Coordination.Client;
using Coordination.Client.Lease;

namespace Coordination.Concurrency.Sessions;

/// <summary>A lease with the client's shared keep-alive; its loss token is the session's.</summary>
internal sealed class CoordinationSession : ICoordinationSession
{
    private static readonly TimeSpan RevokeTimeout = TimeSpan.FromSeconds(5);

    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _lost = new();
    private readonly Lock _gate = new();
    private ILeaseKeepAlive? _keepAlive;
    private CancellationTokenRegistration _registration;
    private ITimer? _abandonedDeadline;
    private int _closed;

    private CoordinationSession(ICoordinationClient client, TimeProvider time, ILeaseKeepAlive keepAlive, TimeSpan ttl)
    {
        Client = client;
        _time = time;
        _keepAlive = keepAlive;
        LeaseId = keepAlive.LeaseId;
        Ttl = ttl;
        _registration = keepAlive.LeaseLost.Register(static s => ((CoordinationSession)s!).MarkLost(), this);
    }

    public ICoordinationClient Client { get; }

    public long LeaseId { get; }

    public TimeSpan Ttl { get; }

    public CancellationToken SessionLost => _lost.Token;

    public bool IsLost => _lost.IsCancellationRequested;

    public static async Task<ICoordinationSession> StartAsync(ICoordinationClient client, TimeProvider time, SessionOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        options ??= new SessionOptions();
        if (options.LeaseId != 0)
        {
            ILeaseKeepAlive adopted;
            try
            {
                adopted = await client.Lease.KeepAliveAsync(options.LeaseId, cancellationToken).ConfigureAwait(false);
            }
            catch (EtcdLeaseNotFoundException)
            {
                throw new SessionExpiredException(options.LeaseId, $"Lease {options.LeaseId:x} cannot be adopted: it does not exist or has expired.");
            }

            return new CoordinationSession(client, time, adopted, TimeSpan.FromSeconds(adopted.TtlSeconds));
        }

        var ttlSeconds = (long)Math.Ceiling(options.Ttl.TotalSeconds);
        if (ttlSeconds < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Ttl, "A session's TTL is at least one second.");
        }

        var keepAlive = await client.Lease.GrantAndKeepAliveAsync(ttlSeconds, cancellationToken).ConfigureAwait(false);
        return new CoordinationSession(client, time, keepAlive, TimeSpan.FromSeconds(keepAlive.TtlSeconds));
    }

    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        await StopKeepAliveAsync().ConfigureAwait(false);
        try
        {
            using var timeout = new CancellationTokenSource(RevokeTimeout, _time);
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            await Client.Lease.RevokeAsync(LeaseId, bounded.Token).ConfigureAwait(false);
        }
        catch (EtcdLeaseNotFoundException)
        {
            // already gone: expired or revoked by someone else
        }
        finally
        {
            MarkLost();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await CloseAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is EtcdException or OperationCanceledException)
        {
            // the lease could not be revoked; it expires after its TTL without renewals
        }
        finally
        {
            _abandonedDeadline?.Dispose();
        }
    }

    /// <summary>
    /// Fault injection for tests: stops renewing without revoking, as a partitioned or paused process
    /// would. The server expires the lease after its TTL; <see cref="SessionLost"/> fires at the local
    /// deadline of the last renewal, as it would if renewals kept failing.
    /// </summary>
    internal async Task AbandonKeepAliveAsync()
    {
        var deadline = _keepAlive?.Deadline ?? _time.GetUtcNow();
        await StopKeepAliveAsync().ConfigureAwait(false);
        var due = deadline - _time.GetUtcNow();
        _abandonedDeadline = _time.CreateTimer(static s => ((CoordinationSession)s!).MarkLost(), this, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    private async Task StopKeepAliveAsync()
    {
        ILeaseKeepAlive? keepAlive;
        lock (_gate)
        {
            keepAlive = _keepAlive;
            _keepAlive = null;
        }

        if (keepAlive is not null)
        {
            await _registration.DisposeAsync().ConfigureAwait(false);
            await keepAlive.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void MarkLost()
    {
        try
        {
            _lost.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
