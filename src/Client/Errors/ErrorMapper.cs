using System.Net.Http;
using System.Net.Sockets;
using Grpc.Core;

namespace Coordination.Client.Errors;

/// <summary>
/// Maps a failed gRPC call to the typed exceptions, on the status code and the etcd message
/// together (several etcd errors share a code), and tells whether a request provably never left
/// the client.
/// </summary>
internal static class ErrorMapper
{
    private const string Prefix = "etcdserver: ";

    public static EtcdException Map(RpcException e)
    {
        var code = e.StatusCode;
        var message = e.Status.Detail ?? string.Empty;
        var text = message.StartsWith(Prefix, StringComparison.Ordinal) ? message[Prefix.Length..] : message;
        return text switch
        {
            "mvcc: required revision has been compacted" => new EtcdCompactedException(message, 0, e),
            "mvcc: required revision is a future revision" => new EtcdFutureRevisionException(message, e),
            "requested lease not found" => new EtcdLeaseNotFoundException(message, e),
            "mvcc: database space exceeded" => new EtcdNoSpaceException(message, e),
            "request is too large" => new EtcdRequestTooLargeException(code, message, e),
            "authentication failed, invalid user ID or password" => new EtcdAuthenticationFailedException(message, e),
            "invalid auth token" or "revision of auth store is old" => new EtcdInvalidAuthTokenException(code, message, e),
            "permission denied" or "user name is empty" => new EtcdPermissionDeniedException(code, message, e),
            "no leader" or "leader changed" or "not capable" or "server stopped" or "unhealthy cluster"
                or "rpc not supported for learner" or "too many requests"
                => new EtcdClusterUnavailableException(code, message, e),
            _ when IsServerTimeout(text) => new EtcdClusterUnavailableException(code, message, e),
            "key is not provided" or "too many operations in txn request" or "duplicate key given in txn request"
                or "value is provided" or "lease is provided" or "key not found"
                => new EtcdInvalidRequestException(message, e),
            "member ID already exist" or "Peer URLs already exists" or "member not found" or "given member URLs are invalid"
                or "can only promote a learner member" or "can only promote a learner member which is in sync with leader"
                or "too many learner members in cluster" or "re-configuration failed due to not enough started members"
                => new EtcdMembershipException(code, message, e),
            "root user does not exist" or "root user does not have root role" or "user name already exists"
                or "user name not found" or "role name already exists" or "role name not found" or "role name is empty"
                or "permission not given" or "role is not granted to the user" or "permission is not granted to the role"
                or "authentication is not enabled" or "invalid auth management"
                => new EtcdAuthManagementException(code, message, e),
            _ when message.StartsWith("grpc: received message larger than max", StringComparison.Ordinal)
                || message.StartsWith("grpc: trying to send message larger than max", StringComparison.Ordinal)
                || (code == StatusCode.ResourceExhausted && message.StartsWith("Received message exceeds the maximum configured message size", StringComparison.Ordinal))
                => new EtcdRequestTooLargeException(code, message, e),
            _ when NeverSent(e) || (code == StatusCode.Unavailable && IsTransportFailure(e))
                => new EtcdEndpointUnavailableException(message.Length > 0 ? message : "endpoint unavailable", e),
            _ => new EtcdException(code, message, e),
        };
    }

    /// <summary>etcd's "request timed out[, ...]" family: the proposal may still commit.</summary>
    public static bool IsServerTimeout(string textWithoutPrefix) =>
        textWithoutPrefix.StartsWith("request timed out", StringComparison.Ordinal);

    /// <summary>True when the failure is the connection's (or a cancellation the caller did not ask for),
    /// not an answer of the server: for a write already sent, its outcome is unknown.</summary>
    public static bool IsTransportFailure(RpcException e) =>
        e.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown or StatusCode.DeadlineExceeded or StatusCode.Cancelled
        && !(e.Status.Detail ?? string.Empty).StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>
    /// True only when the request provably never left the client: the connection to the endpoint
    /// could not be established (refused, unreachable, name not resolved, TLS handshake failed).
    /// A request on an established connection that then broke is never counted as unsent.
    /// </summary>
    public static bool NeverSent(RpcException e)
    {
        // grpc-dotnet reports a refused connection as Unavailable and a failed TLS handshake as Internal.
        if (e.StatusCode is not (StatusCode.Unavailable or StatusCode.Internal))
        {
            return false;
        }

        for (Exception? inner = e.Status.DebugException ?? e.InnerException; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError }:
                    return true;
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostNotFound }:
                    return true;
            }
        }

        return false;
    }
}
