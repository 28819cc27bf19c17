using Coordination.Server.Errors;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Coordination.Server.Services;

/// <summary>
/// Turns errors raised anywhere below the services into the gRPC status etcd would send: an
/// <see cref="EtcdException"/> becomes its catalogue code and message; anything else unexpected
/// becomes Unknown with its message (as etcd's unmapped errors do), is logged, and never crashes
/// the server.
/// </summary>
internal sealed class EtcdErrorInterceptor(ILogger<EtcdErrorInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try { return await continuation(request, context).ConfigureAwait(false); }
        catch (Exception ex) when (Map(ex, context) is { } mapped) { throw mapped; }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(request, responseStream, context).ConfigureAwait(false); }
        catch (Exception ex) when (Map(ex, context) is { } mapped) { throw mapped; }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try { await continuation(requestStream, responseStream, context).ConfigureAwait(false); }
        catch (Exception ex) when (Map(ex, context) is { } mapped) { throw mapped; }
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
