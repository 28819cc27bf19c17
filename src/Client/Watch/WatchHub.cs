using System.Threading.Channels;
using Coordination.Client.Diagnostics;
using Coordination.Client.Errors;
using Coordination.Client.Kv;
using Coordination.Client.Transport;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Coordination.Client.Watch;

/// <summary>
/// Every watch of the client on one bidirectional Watch stream. A single loop owns the stream and
/// all state (an actor): subscriptions, unsubscriptions, server responses and stream failures
/// arrive as messages. Creates are sent one at a time (the server answers them in order). After a
/// broken stream the loop re-opens one (on another endpoint when this one failed) and re-creates
/// every watch from its next undelivered revision; events below that revision are dropped, so the
/// consumer sees no gap and no duplicate.
/// </summary>
internal sealed class WatchHub : IWatchClient, IAsyncDisposable
{
    private readonly CallRunner _runner;
    private readonly CoordinationClientOptions _options;
    private readonly ClientTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly Channel<object> _inbox = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private readonly List<Watcher> _watchers = [];
    private readonly Dictionary<long, Watcher> _byServerId = [];
    private readonly Queue<Watcher> _toCreate = new();
    private Watcher? _creating;
    private AsyncDuplexStreamingCall<WatchRequest, WatchResponse>? _call;
    private EndpointChannel? _endpoint;
    private Metadata? _headers;
    private CancellationTokenSource? _streamAlive;
    private int _session;
    private int _disposed;
    private int _failures;
    private bool _reconnectScheduled;

    public WatchHub(CallRunner runner, CoordinationClientOptions options, ClientTelemetry telemetry, ILogger logger)
    {
        _runner = runner;
        _options = options;
        _telemetry = telemetry;
        _logger = logger;
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    /// <summary>The endpoint the stream is open on, if any (tests).</summary>
    internal string? StreamEndpoint => _endpoint?.Address;

    public async Task<IWatchSubscription> WatchAsync(ReadOnlyMemory<byte> key, WatchOptions? options = null, CancellationToken cancellationToken = default)
    {
        var create = WatchMessages.CreateRequest(key, options ?? new WatchOptions());
        var watcher = new Watcher(this, create);
        Post(new SubscribeMessage(watcher));
        try
        {
            await watcher.Created.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await watcher.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return watcher;
    }

    public Task RequestProgressAsync(CancellationToken cancellationToken = default)
    {
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(new RequestProgress(sent));
        return sent.Task.WaitAsync(cancellationToken);
    }

    internal void Unsubscribe(Watcher watcher) => Post(new UnsubscribeMessage(watcher));

    private void Post(object message)
    {
        if (!_inbox.Writer.TryWrite(message))
        {
            throw new ObjectDisposedException(nameof(WatchHub));
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
                    // A write to a stream that just broke (the reader cancels pending writes when it sees
                    // the stream end); the loop reconnects.
                    StreamFailed(_session, e);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task HandleAsync(object message, CancellationToken stop)
    {
        switch (message)
        {
            case SubscribeMessage s:
                _watchers.Add(s.Watcher);
                if (_call is not null)
                {
                    _toCreate.Enqueue(s.Watcher);
                }
                else
                {
                    await EnsureStreamAsync(stop).ConfigureAwait(false); // queues every watch, this one included
                }

                await SendNextCreateAsync().ConfigureAwait(false);
                break;
            case UnsubscribeMessage u:
                await CancelAsync(u.Watcher).ConfigureAwait(false);
                break;
            case RequestProgress p:
                await EnsureStreamAsync(stop).ConfigureAwait(false);
                if (_call is null)
                {
                    p.Sent.TrySetException(new EtcdEndpointUnavailableException("No watch stream could be opened."));
                }
                else
                {
                    await _call.RequestStream.WriteAsync(new WatchRequest { ProgressRequest = new WatchProgressRequest() }, Alive).ConfigureAwait(false);
                    p.Sent.TrySetResult();
                }

                break;
            case StreamResponse r when r.Session == _session:
                _failures = 0;
                await OnResponseAsync(r.Response).ConfigureAwait(false);
                break;
            case StreamEnded e when e.Session == _session:
                StreamFailed(e.Session, e.Error);
                break;
            case Reconnect:
                _reconnectScheduled = false;
                await EnsureStreamAsync(stop).ConfigureAwait(false);
                await SendNextCreateAsync().ConfigureAwait(false);
                break;
        }
    }

    private async Task EnsureStreamAsync(CancellationToken stop)
    {
        if (_call is not null || _reconnectScheduled)
        {
            return;
        }

        var endpoint = _runner.Pool.Current;
        try
        {
            _headers = await _runner.StreamHeadersAsync(endpoint, stop).ConfigureAwait(false);
            var alive = CancellationTokenSource.CreateLinkedTokenSource(stop);
            var call = new Etcdserverpb.Watch.WatchClient(endpoint.Invoker).Watch(new CallOptions(_headers, cancellationToken: alive.Token));
            _call = call;
            _streamAlive = alive;
            _endpoint = endpoint;
            var session = ++_session;
            _ = Task.Run(() => ReadAsync(call, session, alive), CancellationToken.None);

            // Everything not yet created on this stream is (re)created, in subscription order.
            _toCreate.Clear();
            _creating = null;
            foreach (var watcher in _watchers)
            {
                _toCreate.Enqueue(watcher);
            }
        }
        catch (EtcdException e)
        {
            StreamFailed(_session, e);
        }
    }

    private async Task ReadAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, int session, CancellationTokenSource alive)
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
        CancelQuietly(alive); // a write the loop may be blocked in fails now
    }

    private static void CancelQuietly(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private CancellationToken Alive => _streamAlive?.Token ?? CancellationToken.None;

    private async Task SendNextCreateAsync()
    {
        if (_call is null || _creating is not null)
        {
            return;
        }

        while (_toCreate.TryDequeue(out var next))
        {
            if (next.Unsubscribed || next.ServerId is not null || !_watchers.Contains(next))
            {
                continue;
            }

            _creating = next;
            await _call.RequestStream.WriteAsync(next.CreateRequest(), Alive).ConfigureAwait(false);
            return;
        }
    }

    private async Task OnResponseAsync(WatchResponse response)
    {
        if (response.Created)
        {
            var watcher = _creating;
            _creating = null;
            if (watcher is not null)
            {
                if (response.Canceled)
                {
                    var error = WatchMessages.CancelError(response);
                    if (error is EtcdInvalidAuthTokenException && watcher.AuthRefusals++ < 3)
                    {
                        // The stream's token expired (typically on a re-opened stream): authenticate
                        // again and re-open, which re-creates every watch with the new token.
                        _runner.Auth.Invalidate(_headers);
                        StreamFailed(_session, error);
                        return;
                    }

                    Remove(watcher);
                    watcher.Fail(error);
                }
                else
                {
                    watcher.AuthRefusals = 0;
                    watcher.ServerId = response.WatchId;
                    _byServerId[response.WatchId] = watcher;
                    watcher.OnCreated(response.Header?.Revision ?? 0);
                    if (watcher.Unsubscribed)
                    {
                        await CancelAsync(watcher).ConfigureAwait(false);
                    }
                    else if (response.Events.Count > 0)
                    {
                        Deliver(watcher, response);
                    }
                }
            }

            await SendNextCreateAsync().ConfigureAwait(false);
            return;
        }

        if (response.WatchId == -1 && response.Events.Count == 0 && !response.Canceled)
        {
            // Answer to a progress request: a broadcast. On etcd 3.4.0-3.4.24 it may overtake pending
            // events, so it is passed on but does not advance any watch's resume revision.
            var revision = response.Header?.Revision ?? 0;
            foreach (var w in _byServerId.Values)
            {
                w.Deliver(new WatchBatch(revision, [], true));
            }

            return;
        }

        if (!_byServerId.TryGetValue(response.WatchId, out var target))
        {
            return;
        }

        if (response.Canceled || response.CompactRevision != 0)
        {
            Remove(target);
            if (!target.Unsubscribed || response.CompactRevision != 0)
            {
                target.Fail(WatchMessages.CancelError(response));
            }

            return;
        }

        Deliver(target, response);
    }

    private void Deliver(Watcher watcher, WatchResponse response)
    {
        var revision = response.Header?.Revision ?? 0;
        if (response.Events.Count == 0)
        {
            // A progress notification of this watch: everything up to the header revision was seen.
            watcher.NextRevision = Math.Max(watcher.NextRevision, revision + 1);
            watcher.Deliver(new WatchBatch(revision, [], true));
            return;
        }

        var events = new List<WatchEvent>(response.Events.Count);
        foreach (var e in response.Events)
        {
            if (e.Kv.ModRevision >= watcher.NextRevision)
            {
                events.Add(WatchEvent.From(e));
            }
        }

        if (events.Count == 0)
        {
            return;
        }

        watcher.NextRevision = events[^1].Kv.ModRevision + 1;
        _telemetry.WatchEvents.Add(events.Count);
        watcher.Deliver(new WatchBatch(revision, events, false));
    }

    private async Task CancelAsync(Watcher watcher)
    {
        var serverId = watcher.ServerId;
        Remove(watcher);
        watcher.Complete();
        if (serverId is { } id && _call is not null)
        {
            await _call.RequestStream.WriteAsync(new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = id } }, Alive).ConfigureAwait(false);
        }
    }

    private void Remove(Watcher watcher)
    {
        _watchers.Remove(watcher);
        if (watcher.ServerId is { } id && _byServerId.TryGetValue(id, out var known) && ReferenceEquals(known, watcher))
        {
            _byServerId.Remove(id);
        }
    }

    private void StreamFailed(int session, Exception? error)
    {
        if (session != _session && _call is not null)
        {
            return;
        }

        var endpoint = _endpoint ?? _runner.Pool.Current;
        var call = _call;
        _call = null;
        _endpoint = null;
        _session++;
        if (_streamAlive is { } alive)
        {
            CancelQuietly(alive);
            alive.Dispose();
            _streamAlive = null;
        }

        call?.Dispose();
        _byServerId.Clear();
        _creating = null;
        foreach (var watcher in _watchers)
        {
            watcher.ServerId = null;
        }

        if (error is RpcException { StatusCode: StatusCode.Unimplemented or StatusCode.PermissionDenied or StatusCode.InvalidArgument } fatal)
        {
            // The server will never serve this stream: fail the watches rather than retrying forever.
            var mapped = ErrorMapper.Map(fatal);
            foreach (var watcher in _watchers.ToList())
            {
                Remove(watcher);
                watcher.Fail(mapped);
            }

            return;
        }

        var reason = error?.Message ?? "stream ended";
        if (error is RpcException rpc && ErrorMapper.Map(rpc) is EtcdInvalidAuthTokenException)
        {
            _runner.Auth.Invalidate(_headers);
        }
        else if (error is null || error is RpcException { StatusCode: StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown } or IOException or EtcdEndpointUnavailableException)
        {
            _runner.Pool.ReportTransportFailure(endpoint);
        }

        _telemetry.WatchReconnects.Add(1);
        Log.WatchStreamBroken(_logger, endpoint.Address, reason, _watchers.Count);
        if (_watchers.Count == 0 || _stop.IsCancellationRequested)
        {
            return;
        }

        _reconnectScheduled = true;
        var delay = TimeSpan.FromMilliseconds(Math.Min(2000, 50 * (1 << Math.Min(_failures++, 6))));
        _ = DelayThenPostAsync(delay, new Reconnect());
    }

    private async Task DelayThenPostAsync(TimeSpan delay, object message)
    {
        try
        {
            await Task.Delay(delay, _options.TimeProvider, _stop.Token).ConfigureAwait(false);
            _inbox.Writer.TryWrite(message);
        }
        catch (OperationCanceledException)
        {
        }
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
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _call?.Dispose();
        foreach (var watcher in _watchers.ToList())
        {
            watcher.Complete();
        }

        _stop.Dispose();
    }

    private sealed record SubscribeMessage(Watcher Watcher);

    private sealed record UnsubscribeMessage(Watcher Watcher);

    private sealed record RequestProgress(TaskCompletionSource Sent);

    private sealed record StreamResponse(int Session, WatchResponse Response);

    private sealed record StreamEnded(int Session, Exception? Error);

    private sealed record Reconnect;
}
