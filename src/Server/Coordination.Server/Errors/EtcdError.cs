using Grpc.Core;

namespace Coordination.Server.Errors;

/// <summary>
/// One entry of etcd's error catalogue: the gRPC status code and the exact message text a client
/// receives. Clients (the Go client among them) map errors by message, so the text must match.
/// </summary>
internal sealed record EtcdError(StatusCode Code, string Message)
{
    /// <summary>Creates the exception that carries this error to the gRPC layer.</summary>
    public EtcdException ToException() => new(this);

    /// <summary>The gRPC exception a service throws for this error.</summary>
    public RpcException ToRpcException() => new(new Status(Code, Message));
}
