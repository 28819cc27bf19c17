using Grpc.Core;

namespace Coordination.Client;

/// <summary>
/// An error reported by the cluster (or the transport to it). Subclasses name the etcd errors an
/// application is expected to handle; anything else arrives as this base type, with the gRPC
/// <see cref="StatusCode"/> and the server's message.
/// </summary>
public class EtcdException : Exception
{
    /// <summary>Creates an error with the gRPC status code and the server's message.</summary>
    public EtcdException(StatusCode statusCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>The gRPC status code of the failed call.</summary>
    public StatusCode StatusCode { get; }
}

/// <summary>The requested revision has been compacted away (etcd: "mvcc: required revision has been compacted").</summary>
public sealed class EtcdCompactedException(string message, long compactRevision, Exception? innerException = null)
    : EtcdException(StatusCode.OutOfRange, message, innerException)
{
    /// <summary>The cluster's compact revision when known (watches report it), else 0. Re-read, then watch from a revision above it.</summary>
    public long CompactRevision { get; } = compactRevision;
}

/// <summary>The requested revision is newer than the cluster's current revision.</summary>
public sealed class EtcdFutureRevisionException(string message, Exception? innerException = null)
    : EtcdException(StatusCode.OutOfRange, message, innerException);

/// <summary>The lease does not exist (never granted, revoked, or expired).</summary>
public sealed class EtcdLeaseNotFoundException(string message, Exception? innerException = null)
    : EtcdException(StatusCode.NotFound, message, innerException);

/// <summary>The cluster cannot serve the request right now: no leader, leader changed, timed out, stopped, unhealthy.
/// For reads the client retries these; for writes a timeout means <see cref="EtcdOutcomeUnknownException"/>.</summary>
public sealed class EtcdClusterUnavailableException(StatusCode statusCode, string message, Exception? innerException = null)
    : EtcdException(statusCode, message, innerException);

/// <summary>Wrong user name or password.</summary>
public sealed class EtcdAuthenticationFailedException(string message, Exception? innerException = null)
    : EtcdException(StatusCode.InvalidArgument, message, innerException);

/// <summary>The token was rejected (expired, unknown, or issued before an auth change); the client re-authenticates once by itself.</summary>
public sealed class EtcdInvalidAuthTokenException(StatusCode statusCode, string message, Exception? innerException = null)
    : EtcdException(statusCode, message, innerException);

/// <summary>The user lacks the permission, or no user was given while authentication is enabled.</summary>
public sealed class EtcdPermissionDeniedException(StatusCode statusCode, string message, Exception? innerException = null)
    : EtcdException(statusCode, message, innerException);

/// <summary>The request is larger than the server accepts.</summary>
public sealed class EtcdRequestTooLargeException(StatusCode statusCode, string message, Exception? innerException = null)
    : EtcdException(statusCode, message, innerException);

/// <summary>The database quota is exhausted (NOSPACE alarm): compact, defragment, then disarm.</summary>
public sealed class EtcdNoSpaceException(string message, Exception? innerException = null)
    : EtcdException(StatusCode.ResourceExhausted, message, innerException);

/// <summary>The request is malformed (empty key, too many operations, duplicate key, ...).</summary>
public sealed class EtcdInvalidRequestException(string message, Exception? innerException = null)
    : EtcdException(StatusCode.InvalidArgument, message, innerException);

/// <summary>A membership change was refused (member not found, exists, not a learner, not ready, ...).</summary>
public sealed class EtcdMembershipException(StatusCode statusCode, string message, Exception? innerException = null)
    : EtcdException(statusCode, message, innerException);

/// <summary>An auth management call was refused (user or role missing or existing, root missing, auth not enabled, ...).</summary>
public sealed class EtcdAuthManagementException(StatusCode statusCode, string message, Exception? innerException = null)
    : EtcdException(statusCode, message, innerException);

/// <summary>No endpoint could be reached; the request was not sent (or, for reads, every attempt failed).</summary>
public sealed class EtcdEndpointUnavailableException(string message, Exception? innerException = null)
    : EtcdException(StatusCode.Unavailable, message, innerException);

/// <summary>
/// A write (Put, DeleteRange, Txn, Compact, or a membership or auth change) may or may not have been
/// applied: the request left the client, then the connection failed or the deadline passed before an
/// answer. The client never repeats such a write by itself; read the state back to find out.
/// </summary>
public sealed class EtcdOutcomeUnknownException(string message, Exception innerException)
    : EtcdException(StatusCode.Unknown, message, innerException);
