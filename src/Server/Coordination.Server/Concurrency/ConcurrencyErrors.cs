using Coordination.Server.Errors;
using Grpc.Core;

namespace Coordination.Server.Concurrency;

/// <summary>
/// etcd serves Lock and Election as a client of itself, so every error they return (its own or
/// one of the KV layer's) reaches the caller as gRPC Unknown with the error's text.
/// </summary>
internal static class ConcurrencyErrors
{
    /// <summary>A lock waiter's key vanished while it waited (its lease expired or was revoked).</summary>
    public static readonly EtcdError SessionExpired = new(StatusCode.Unknown, "mutex: session is expired");

    /// <summary>Proclaim by a campaigner that no longer holds its key at the leader revision.</summary>
    public static readonly EtcdError NotLeader = new(StatusCode.Unknown, "election: not leader");

    /// <summary>Leader of an election nobody campaigns in.</summary>
    public static readonly EtcdError NoLeader = new(StatusCode.Unknown, "election: no leader");

    /// <summary>Proclaim or Resign without a leader key.</summary>
    public static readonly EtcdError MissingLeaderKey = new(StatusCode.Unknown, "\"leader\" field must be provided");

    /// <summary>The status etcd's Lock and Election answer for <paramref name="error"/>: Unknown, same text.</summary>
    public static RpcException AsClientSide(EtcdError error) => new(new Status(StatusCode.Unknown, error.Message));
}
