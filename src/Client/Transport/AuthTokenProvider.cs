using Coordination.Client.Diagnostics;
using Coordination.Client.Errors;
using Etcdserverpb;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace Coordination.Client.Transport;

/// <summary>
/// Holds the auth token obtained with the configured user and password, sent as the <c>token</c>
/// metadata entry on every call and stream. The token is fetched on first use and again after the
/// server rejects it (invalid token, old auth revision).
/// </summary>
internal sealed class AuthTokenProvider(CoordinationClientOptions options, ILogger logger)
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile string? _token;

    public bool Enabled => !string.IsNullOrEmpty(options.Username);

    public async ValueTask<Metadata?> HeadersAsync(EndpointChannel endpoint, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return null;
        }

        var token = _token ?? await RefreshAsync(endpoint, null, cancellationToken).ConfigureAwait(false);
        return new Metadata { { "token", token } };
    }

    /// <summary>Called after the server rejected <paramref name="rejected"/>; authenticates again unless another caller already did.</summary>
    public void Invalidate(Metadata? rejected)
    {
        var token = rejected?.GetValue("token");
        if (token is not null && token == _token)
        {
            _token = null;
        }
    }

    private async Task<string> RefreshAsync(EndpointChannel endpoint, string? stale, CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token is { } current && current != stale)
            {
                return current;
            }

            var client = new Etcdserverpb.Auth.AuthClient(endpoint.Invoker);
            try
            {
                var response = await client.AuthenticateAsync(
                    new AuthenticateRequest { Name = options.Username, Password = options.Password ?? string.Empty },
                    deadline: TimeProvider.System.GetUtcNow().UtcDateTime + options.CallTimeout, // a wire deadline: machine clock
                    cancellationToken: cancellationToken).ConfigureAwait(false);
                _token = response.Token;
                Log.TokenRefreshed(logger, options.Username!);
                return response.Token;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            catch (RpcException e)
            {
                throw ErrorMapper.Map(e);
            }
        }
        finally
        {
            _refresh.Release();
        }
    }
}
