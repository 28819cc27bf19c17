using Coordination.Server.Auth;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Coordination.Server.Services;

/// <summary>
/// Applies <see cref="AuthGate"/> to every call before the service runs: unary and server-streaming
/// calls by their request, client- and duplex-streaming calls by their caller only (the Watch
/// service checks each watch it creates).
/// </summary>
internal sealed class AuthInterceptor(AuthGate gate) : Interceptor
{
    /// <summary>Only the client API is subject to auth; the members' peer service is not.</summary>
    private static bool IsClientApi(ServerCallContext context) =>
        context.Method.StartsWith("/etcdserverpb.", StringComparison.Ordinal)
        || context.Method.StartsWith("/v3lockpb.", StringComparison.Ordinal)
        || context.Method.StartsWith("/v3electionpb.", StringComparison.Ordinal);

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (IsClientApi(context)) gate.Authorize(request, context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (IsClientApi(context)) gate.Authorize(request, context);
        return continuation(request, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (IsClientApi(context)) gate.Caller(context);
        return continuation(requestStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        // The Watch stream refuses each create with the error text instead (as etcd does).
        if (IsClientApi(context) && context.Method != "/etcdserverpb.Watch/Watch") gate.Caller(context);
        return continuation(requestStream, responseStream, context);
    }
}
