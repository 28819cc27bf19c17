using System.Diagnostics;
using Coordination.Client.Diagnostics;
using Coordination.Client.Errors;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Coordination.Client.Transport;

/// <summary>
/// Runs one unary call: picks an endpoint, adds the auth token and a per-attempt deadline, maps
/// failures to typed exceptions, and retries through a Polly pipeline only what
/// <see cref="CallKind"/> allows. Each call is one span and is counted and timed.
/// </summary>
internal sealed class CallRunner
{
    private readonly CoordinationClientOptions _options;
    private readonly EndpointPool _pool;
    private readonly AuthTokenProvider _auth;
    private readonly ClientTelemetry _telemetry;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _retry;

    public CallRunner(CoordinationClientOptions options, EndpointPool pool, AuthTokenProvider auth, ClientTelemetry telemetry, ILogger logger)
    {
        _options = options;
        _pool = pool;
        _auth = auth;
        _telemetry = telemetry;
        _logger = logger;
        _retry = options.MaxRetries <= 0 ? ResiliencePipeline.Empty : new ResiliencePipelineBuilder { TimeProvider = options.TimeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RetryableFailure>(),
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay > TimeSpan.Zero ? options.RetryBaseDelay : TimeSpan.FromMilliseconds(1),
                MaxDelay = TimeSpan.FromSeconds(2),
                OnRetry = args =>
                {
                    _telemetry.Retries.Add(1);
                    return default;
                },
            })
            .Build();
    }

    public EndpointPool Pool => _pool;

    public AuthTokenProvider Auth => _auth;

    /// <summary>Runs <paramref name="call"/> with retries as <paramref name="kind"/> allows; on <paramref name="endpoint"/> only, when given.</summary>
    public async Task<TResponse> UnaryAsync<TResponse>(
        string method,
        CallKind kind,
        Func<CallInvoker, CallOptions, AsyncUnaryCall<TResponse>> call,
        CancellationToken cancellationToken,
        string? endpoint = null)
    {
        var fixedEndpoint = endpoint is null ? null : _pool.Find(endpoint)
            ?? throw new ArgumentException($"'{endpoint}' is not one of the client's endpoints.", nameof(endpoint));
        using var activity = ClientTelemetry.ActivitySource.StartActivity(method, ActivityKind.Client);
        activity?.SetTag("rpc.system", "grpc");
        activity?.SetTag("rpc.method", method);
        var started = Stopwatch.GetTimestamp();
        var outcome = "ok";
        try
        {
            var attempt = 0;
            return await _retry.ExecuteAsync(
                async token => await AttemptAsync(method, kind, call, fixedEndpoint, ++attempt, activity, token).ConfigureAwait(false),
                cancellationToken).ConfigureAwait(false);
        }
        catch (RetryableFailure failure)
        {
            outcome = failure.Error.GetType().Name;
            activity?.SetStatus(ActivityStatusCode.Error, failure.Error.Message);
            throw failure.Error;
        }
        catch (Exception e)
        {
            outcome = e is OperationCanceledException ? "canceled" : e.GetType().Name;
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
        finally
        {
            var tags = new TagList { { "rpc.method", method }, { "outcome", outcome } };
            _telemetry.Calls.Add(1, tags);
            _telemetry.Duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, new KeyValuePair<string, object?>("rpc.method", method));
        }
    }

    private async Task<TResponse> AttemptAsync<TResponse>(
        string method,
        CallKind kind,
        Func<CallInvoker, CallOptions, AsyncUnaryCall<TResponse>> call,
        EndpointChannel? fixedEndpoint,
        int attempt,
        Activity? activity,
        CancellationToken cancellationToken)
    {
        var endpoint = fixedEndpoint ?? _pool.Pick();
        activity?.SetTag("server.address", endpoint.Address);
        Metadata? headers;
        try
        {
            headers = await _auth.HeadersAsync(endpoint, cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdException e) when (e is EtcdEndpointUnavailableException or EtcdClusterUnavailableException)
        {
            // Authentication failed to reach the endpoint: the call itself was never sent.
            _pool.ReportTransportFailure(endpoint);
            throw Retry(method, attempt, endpoint, e);
        }

        // A gRPC deadline is an instant on the machine's clock (it travels as a timeout and the
        // transport measures it against DateTime.UtcNow), so it is not taken from the injected
        // TimeProvider, which drives the client's own scheduling (back-off, keep-alive, sync).
        var options = new CallOptions(headers, TimeProvider.System.GetUtcNow().UtcDateTime + _options.CallTimeout, cancellationToken);
        try
        {
            var response = await call(endpoint.Invoker, options).ConfigureAwait(false);
            _pool.ReportSuccess(endpoint);
            return response;
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            // The caller cancelled. For a write already sent the outcome is unknown, but the caller asked to stop.
            throw new OperationCanceledException(cancellationToken);
        }
        catch (RpcException e)
        {
            var error = ErrorMapper.Map(e);
            var transport = ErrorMapper.IsTransportFailure(e);
            if (transport && e.StatusCode != StatusCode.DeadlineExceeded)
            {
                _pool.ReportTransportFailure(endpoint);
            }

            if (error is EtcdInvalidAuthTokenException)
            {
                // Rejected before anything was applied: safe to repeat with a fresh token.
                _auth.Invalidate(headers);
                throw Retry(method, attempt, endpoint, error);
            }

            if (kind == CallKind.Repeatable)
            {
                throw transport || error is EtcdClusterUnavailableException ? Retry(method, attempt, endpoint, error) : error;
            }

            if (ErrorMapper.NeverSent(e))
            {
                throw Retry(method, attempt, endpoint, error);
            }

            if (transport || ErrorMapper.IsServerTimeout(TrimPrefix(e.Status.Detail)))
            {
                Log.OutcomeUnknown(_logger, method, endpoint.Address, e);
                throw new EtcdOutcomeUnknownException(
                    $"{method} was sent to {endpoint.Address} but no answer arrived ({e.StatusCode}: {e.Status.Detail}); it may or may not have been applied, and it was not retried.",
                    error);
            }

            throw error;
        }
    }

    private RetryableFailure Retry(string method, int attempt, EndpointChannel endpoint, EtcdException error)
    {
        Log.Retrying(_logger, method, attempt, endpoint.Address, error.Message);
        return new RetryableFailure(error);
    }

    private static string TrimPrefix(string? detail) =>
        detail is not null && detail.StartsWith("etcdserver: ", StringComparison.Ordinal) ? detail["etcdserver: ".Length..] : detail ?? string.Empty;

    /// <summary>Headers for a stream opened on <paramref name="endpoint"/>: the auth token and require-leader.</summary>
    public async ValueTask<Metadata> StreamHeadersAsync(EndpointChannel endpoint, CancellationToken cancellationToken)
    {
        var headers = await _auth.HeadersAsync(endpoint, cancellationToken).ConfigureAwait(false) ?? [];
        headers.Add("hasleader", "true");
        return headers;
    }
}
