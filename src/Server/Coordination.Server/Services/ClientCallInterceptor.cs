using Coordination.Server.Auth;
using Coordination.Server.Errors;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Coordination.Server.Services;

/// <summary>
/// The one interceptor of the client API. Before the service runs it applies
/// <see cref="AuthGate"/> (unary and server-streaming calls by their request, client- and
/// duplex-streaming calls by their caller only: the Watch service checks each watch it creates)
/// and then <see cref="LearnerGate"/>. Errors raised by either or anywhere below become the gRPC
/// status etcd would send: an <see cref="EtcdException"/> its catalogue code and message, a
/// cancelled call Canceled, anything else unexpected Unknown with its message (as etcd's unmapped
/// errors do), logged, never a crash.
/// </summary>
/// <remarks>
/// One interceptor rather than three because grpc-dotnet wraps each interceptor of a call in an
/// async step of its own: with three, every put allocated three of them plus the error mapper's
/// (11-16 and 3-4 MiB of the 170-230 MiB the leader allocated in a 64-client run; one step is now
/// 3 MiB, docs/benchmarks.md). It is a singleton for the same reason (otherwise
/// grpc-dotnet creates one per call). A unary call that completes at once is passed on without an
/// await of our own.
/// </remarks>
internal sealed class ClientCallInterceptor(AuthGate auth, LearnerGate learners, ILogger<ClientCallInterceptor> logger) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Task<TResponse> call;
        try
        {
            if (IsClientApi(context)) auth.Authorize(request, context);
            learners.CheckUnary(request);
            call = continuation(request, context);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }

        return call.IsCompletedSuccessfully ? call : MapFailure(call, context);
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            if (IsClientApi(context)) auth.Authorize(request, context);
            learners.CheckServerStream(request);
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            if (IsClientApi(context)) auth.Caller(context);
            return await continuation(requestStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            // The Watch stream refuses each create with the error text instead (as etcd does).
            if (IsClientApi(context) && context.Method != "/etcdserverpb.Watch/Watch") auth.Caller(context);
            learners.CheckDuplexStream();
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }
    }

    /// <summary>Only the client API is subject to auth; the members' peer service is not.</summary>
    private static bool IsClientApi(ServerCallContext context) =>
        context.Method.StartsWith("/etcdserverpb.", StringComparison.Ordinal)
        || context.Method.StartsWith("/v3lockpb.", StringComparison.Ordinal)
        || context.Method.StartsWith("/v3electionpb.", StringComparison.Ordinal);

    private async Task<TResponse> MapFailure<TResponse>(Task<TResponse> call, ServerCallContext context)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }
    }

    private RpcException? Map(Exception ex, ServerCallContext context) => ex switch
    {
        RpcException => null,
        EtcdException etcd => etcd.Error.ToRpcException(),
        OperationCanceledException when context.CancellationToken.IsCancellationRequested => EtcdErrors.Canceled.ToRpcException(),
        _ => Unexpected(ex, context),
    };

    private RpcException Unexpected(Exception ex, ServerCallContext context)
    {
        logger.LogError(ex, "unexpected error serving {Method}", context.Method);
        return new RpcException(new Status(StatusCode.Unknown, ex.Message));
    }
}
