using Coordination.Server.Node;
using Etcdserverpb;
using Grpc.Core;

namespace Coordination.Server.Services;

/// <summary>etcd's Lease service: a thin adapter over <see cref="CoordinationNode"/>.</summary>
internal sealed class LeaseService(CoordinationNode node, IHostApplicationLifetime lifetime) : Etcdserverpb.Lease.LeaseBase
{
    public override Task<LeaseGrantResponse> LeaseGrant(LeaseGrantRequest request, ServerCallContext context) =>
        node.LeaseGrantAsync(request, context.CancellationToken);

    public override Task<LeaseRevokeResponse> LeaseRevoke(LeaseRevokeRequest request, ServerCallContext context) =>
        node.LeaseRevokeAsync(request, context.CancellationToken);

    /// <summary>One stream renews any number of leases: exactly one response per request, in order.</summary>
    public override async Task LeaseKeepAlive(IAsyncStreamReader<LeaseKeepAliveRequest> requestStream, IServerStreamWriter<LeaseKeepAliveResponse> responseStream, ServerCallContext context)
    {
        // A keep-alive stream never ends by itself: end it when the member stops, or shutdown waits for it.
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, lifetime.ApplicationStopping);
        var cancellationToken = ended.Token;
        try
        {
            // grpc-dotnet's server-side MoveNext does not always end a pending read on cancellation: stop waiting for it.
            while (await requestStream.MoveNext(cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false))
            {
                await responseStream.WriteAsync(await node.LeaseKeepAliveAsync(requestStream.Current, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (IOException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away (etcdctl exits without closing its stream): nothing to answer.
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // This member is stopping: the client renews through another member.
        }
    }

    public override Task<LeaseTimeToLiveResponse> LeaseTimeToLive(LeaseTimeToLiveRequest request, ServerCallContext context) =>
        node.LeaseTimeToLiveAsync(request, context.CancellationToken);

    public override Task<LeaseLeasesResponse> LeaseLeases(LeaseLeasesRequest request, ServerCallContext context) =>
        Task.FromResult(node.LeaseLeases());
}
