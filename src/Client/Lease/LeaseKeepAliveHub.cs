using System.Threading.Channels;
using Coordination.Client.Diagnostics;
using Coordination.Client.Transport;
using Etcdserverpb;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Coordination.Client.Lease;

/// <summary>
/// Keeps every lease of the client alive over one LeaseKeepAlive stream. A single loop (an actor)
/// owns the stream and the leases; a periodic tick on the injected clock sends a renewal for each
/// lease whose next renewal is due (a third of its TTL after the last answer, every 500 ms until
/// answered), and declares a lease lost once its local deadline (last answer + TTL) passes. A TTL
/// of 0 in an answer means the server no longer has the lease. A broken stream is re-opened (on
/// another endpoint when this one failed) while the deadlines keep running.
/// </summary>
internal sealed class LeaseKeepAliveHub : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan ResendAfter = TimeSpan.FromMilliseconds(500);

    private readonly CallRunner _runner;
    private readonly TimeProvider _time;
    private readonly ClientTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly Channel<object> _inbox = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Task _ticker;
    private readonly Dictionary<long, KeptLease> _leases = [];
    private AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse>? _call;
    private EndpointChannel? _endpoint;
    private Metadata? _headers;
    private CancellationTokenSource? _streamAlive;
    private int _session;
    private int _disposed;
    private int _failures;
    private DateTimeOffset _reconnectAt;

    public LeaseKeepAliveHub(CallRunner runner, CoordinationClientOptions options, ClientTelemetry telemetry, ILogger logger)
    {
        _runner = runner;
        _time = options.TimeProvider;
        _telemetry = telemetry;
        _logger = logger;
        _loop = Task.Run(() => RunAsync(_stop.Token));
        var timer = new PeriodicTimer(Tick, _time); // starts now on the injected clock
        _ticker = Task.Run(() => TickAsync(timer, _stop.Token));
    }

    /// <summary>The endpoint the stream is open on, if any (tests).</summary>
    internal string? StreamEndpoint => _endpoint?.Address;

    public ILeaseKeepAlive Add(long id, long ttlSeconds, DateTimeOffset deadline)
    {
        var handle = new KeepAliveHandle(this, id, ttlSeconds, deadline);
        if (!_inbox.Writer.TryWrite(new AddLease(handle)))
        {
            throw new ObjectDisposedException(nameof(LeaseKeepAliveHub));
        }

        return handle;
    }

    private async Task TickAsync(PeriodicTimer timer, CancellationToken stop)
    {
        using var _ = timer;
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                _inbox.Writer.TryWrite(TickMessage.Instance);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        try
        {
            await foreach (var message in _inbox.Reader.ReadAllAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    await HandleAsync(message, stop).ConfigureAwait(false);
                }
                catch (Exception e) when (e is RpcException or IOException or InvalidOperationException or EtcdException
                    || (e is OperationCanceledException && !stop.IsCancellationRequested))
                {
                    // A write to a stream that just broke (the reader cancels pending writes when it sees the end).
                    StreamFailed(e);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task HandleAsync(object message, CancellationToken stop)
    {
        var now = _time.GetUtcNow();
        switch (message)
        {
            case AddLease add:
                if (_leases.TryGetValue(add.Handle.LeaseId, out var existing))
                {
                    existing.Handles.Add(add.Handle);
                    add.Handle.Attach(existing);
                }
                else
                {
                    var entry = new KeptLease(add.Handle.LeaseId, add.Handle.TtlSeconds, add.Handle.InitialDeadline, now);
                    entry.Handles.Add(add.Handle);
                    add.Handle.Attach(entry);
                    _leases[entry.Id] = entry;
                }

                await SendDueAsync(now, stop).ConfigureAwait(false);
                break;
            case RemoveLease remove:
                if (_leases.TryGetValue(remove.Handle.LeaseId, out var held) && held.Handles.Remove(remove.Handle) && held.Handles.Count == 0)
                {
                    _leases.Remove(held.Id);
                    held.Lost.Dispose(); // no longer kept alive: nobody is told about its fate any more
                }

                break;
            case TickMessage:
                foreach (var entry in _leases.Values.Where(e => now >= e.Deadline).ToList())
                {
                    Lose(entry, "not renewed before its deadline");
                }

                await SendDueAsync(now, stop).ConfigureAwait(false);
                break;
            case StreamResponse r when r.Session == _session:
                _failures = 0;
                if (_leases.TryGetValue(r.Response.ID, out var renewed))
                {
                    if (r.Response.TTL <= 0)
                    {
                        Lose(renewed, "the server reports it expired or revoked");
                    }
                    else
                    {
                        renewed.TtlSeconds = r.Response.TTL;
                        renewed.Deadline = now + TimeSpan.FromSeconds(r.Response.TTL);
                        renewed.NextSend = now + TimeSpan.FromSeconds(r.Response.TTL / 3.0);
                    }
                }

                break;
            case StreamEnded e when e.Session == _session:
                StreamFailed(e.Error);
                break;
        }
    }

    private async Task SendDueAsync(DateTimeOffset now, CancellationToken stop)
    {
        if (_leases.Count == 0)
        {
            return;
        }

        if (_call is null)
        {
            if (now < _reconnectAt)
            {
                return;
            }

            var endpoint = _runner.Pool.Current;
            try
            {
                _headers = await _runner.StreamHeadersAsync(endpoint, stop).ConfigureAwait(false);
            }
            catch (EtcdException e)
            {
                _endpoint = endpoint;
                StreamFailed(e);
                return;
            }

            var alive = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var call = new Etcdserverpb.Lease.LeaseClient(endpoint.Invoker).LeaseKeepAlive(new CallOptions(_headers, cancellationToken: alive.Token));
            _call = call;
            _streamAlive = alive;
            _endpoint = endpoint;
            var session = ++_session;
            _ = Task.Run(() => ReadAsync(call, session, alive), CancellationToken.None);
        }

        foreach (var entry in _leases.Values)
        {
            if (now >= entry.NextSend)
            {
                entry.NextSend = now + ResendAfter;
                await _call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = entry.Id }, _streamAlive!.Token).ConfigureAwait(false);
            }
        }
    }

    private async Task ReadAsync(AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> call, int session, CancellationTokenSource alive)
    {
        Exception? error = null;
        try
        {
            await foreach (var response in call.ResponseStream.ReadAllAsync(alive.Token).ConfigureAwait(false))
            {
                _inbox.Writer.TryWrite(new StreamResponse(session, response));
            }
        }
        catch (Exception e)
        {
            error = e;
        }

        _inbox.Writer.TryWrite(new StreamEnded(session, error));
        try
        {
            alive.Cancel(); // a write the loop may be blocked in fails now
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void StreamFailed(Exception? error)
    {
        var endpoint = _endpoint ?? _runner.Pool.Current;
        if (_streamAlive is { } alive)
        {
            try
            {
                alive.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }

            alive.Dispose();
            _streamAlive = null;
        }

        _call?.Dispose();
        _call = null;
        _endpoint = null;
        _session++;
        _telemetry.KeepAliveFailures.Add(1, new KeyValuePair<string, object?>("reason", "stream"));
        if (error is RpcException rpc && Errors.ErrorMapper.Map(rpc) is EtcdInvalidAuthTokenException)
        {
            _runner.Auth.Invalidate(_headers);
        }
        else
        {
            _runner.Pool.ReportTransportFailure(endpoint);
        }

        Log.KeepAliveStreamBroken(_logger, endpoint.Address, error?.Message ?? "stream ended");
        _reconnectAt = _time.GetUtcNow() + TimeSpan.FromMilliseconds(Math.Min(1000, 50 * (1 << Math.Min(_failures++, 5))));
        foreach (var entry in _leases.Values)
        {
            entry.NextSend = _reconnectAt; // resend at once on the new stream
        }
    }

    private void Lose(KeptLease entry, string reason)
    {
        _leases.Remove(entry.Id);
        _telemetry.KeepAliveFailures.Add(1, new KeyValuePair<string, object?>("reason", "lease-lost"));
        Log.LeaseLost(_logger, entry.Id, reason);
        // Cancel off the loop: user callbacks registered on the token must not run on it.
        _ = Task.Run(entry.Lost.Cancel);
    }

    /// <summary>Idempotent: a container that resolved this as a service may dispose it besides the client.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _inbox.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_loop, _ticker).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _call?.Dispose();
        _stop.Dispose();
    }

    /// <summary>Called by a handle's dispose: stop renewing for it.</summary>
    internal void Release(KeepAliveHandle handle) => _inbox.Writer.TryWrite(new RemoveLease(handle));

    private sealed record AddLease(KeepAliveHandle Handle);

    private sealed record RemoveLease(KeepAliveHandle Handle);

    private sealed class TickMessage
    {
        public static readonly TickMessage Instance = new();
    }

    private sealed record StreamResponse(int Session, LeaseKeepAliveResponse Response);

    private sealed record StreamEnded(int Session, Exception? Error);
}
