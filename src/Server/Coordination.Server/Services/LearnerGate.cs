using Coordination.Server.Errors;
using Coordination.Server.Node;
using Etcdserverpb;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Coordination.Server.Services;

/// <summary>
/// A learner (a non-voting member catching up) serves only what cannot be stale in a way that
/// matters: serializable ranges, the member list and its own status, as etcd's learners do. Every
/// other call gets "etcdserver: rpc not supported for learner" (streams too, but the snapshot).
/// </summary>
internal sealed class LearnerGate(CoordinationNode node) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (node.IsLearner && !Supported(request)) throw EtcdErrors.NotSupportedForLearner.ToException();
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (node.IsLearner && request is not SnapshotRequest) throw EtcdErrors.NotSupportedForLearner.ToException();
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (node.IsLearner) throw EtcdErrors.NotSupportedForLearner.ToException();
        return continuation(requestStream, responseStream, context);
    }

    private static bool Supported(object request) => request switch
    {
        RangeRequest range => range.Serializable,
        MemberListRequest or StatusRequest => true,
        _ => false,
    };
}
