using Coordination.Server.Auth;
using Coordination.Server.Hosting;
using Coordination.Server.Node;
using Coordination.Server.Watch;
using Etcdserverpb;
using Grpc.Core;

namespace Coordination.Server.Services;

/// <summary>
/// etcd's Watch service: one <see cref="WatchStream"/> per gRPC stream. The receive loop turns
/// requests into hub calls; the send loop drains the stream's buffer, stamps headers and
/// fragments large responses for watchers that asked for it.
/// </summary>
internal sealed class WatchService(WatchHub hub, CoordinationNode node, ServerOptions options, AuthGate auth, IHostApplicationLifetime lifetime) : Etcdserverpb.Watch.WatchBase
{
    public override async Task Watch(IAsyncStreamReader<WatchRequest> requestStream, IServerStreamWriter<WatchResponse> responseStream, ServerCallContext context)
    {
        using var stream = hub.OpenStream();
        // A watch stream never ends by itself: end it when the member stops, or shutdown waits for it.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        Task sending = SendAsync(stream, responseStream, stop.Token);
        try
        {
            while (await NextRequestAsync(requestStream, stop.Token).ConfigureAwait(false))
            {
                WatchRequest request = requestStream.Current;
                switch (request.RequestUnionCase)
                {
                    case WatchRequest.RequestUnionOneofCase.CreateRequest:
                        if (auth.RefuseWatch(request.CreateRequest, context) is { } refusal) stream.Refuse(refusal);
                        else stream.Create(request.CreateRequest);
                        break;
                    case WatchRequest.RequestUnionOneofCase.CancelRequest:
                        stream.Cancel(request.CancelRequest.WatchId);
                        break;
                    case WatchRequest.RequestUnionOneofCase.ProgressRequest:
                        stream.RequestProgress();
                        break;
                }

                if (sending.IsCompleted)
                {
                    break;
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await sending.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The stream ended; nothing left to send.
            }
            catch (Exception) when (context.CancellationToken.IsCancellationRequested)
            {
                // The client went away while a response was being written.
            }
        }
    }

    /// <summary>The next request; false at the end of the stream, including a client that went away.</summary>
    private static async Task<bool> NextRequestAsync(IAsyncStreamReader<WatchRequest> requestStream, CancellationToken cancellationToken)
    {
        try
        {
            // grpc-dotnet's server-side MoveNext does not always end a pending read on cancellation: stop waiting for it.
            return await requestStream.MoveNext(cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The client reset the stream or the connection: the same as its end, not a server error.
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private async Task SendAsync(WatchStream stream, IServerStreamWriter<WatchResponse> responseStream, CancellationToken cancellationToken)
    {
        var buffered = new WriteOptions(WriteFlags.BufferHint);
        while (await stream.ReadAsync(cancellationToken).ConfigureAwait(false) is { } first)
        {
            // Responses already queued go out in one flush: buffered writes, the last one flushes.
            WatchOutbound outbound = first;
            bool more;
            do
            {
                more = stream.TryRead(out WatchOutbound next);
                responseStream.WriteOptions = more ? buffered : null;
                await WriteAsync(outbound, responseStream, cancellationToken).ConfigureAwait(false);
                outbound = next;
            }
            while (more);
        }
    }

    private async Task WriteAsync(WatchOutbound outbound, IServerStreamWriter<WatchResponse> responseStream, CancellationToken cancellationToken)
    {
        WatchResponse response = outbound.Response;
        ResponseHeader header = response.Header;
        header.ClusterId = node.Identity.ClusterId;
        header.MemberId = node.Identity.MemberId;
        header.RaftTerm = node.RaftTerm;
        if (!outbound.Fragment)
        {
            await responseStream.WriteAsync(response, cancellationToken).ConfigureAwait(false);
            return;
        }

        foreach (WatchResponse part in WatchResponseFragmenter.Split(response, options.MaxReceiveMessageBytes))
        {
            await responseStream.WriteAsync(part, cancellationToken).ConfigureAwait(false);
        }
    }
}
