using Coordination.Server.Node;
using Etcdserverpb;
using Grpc.Core;

namespace Coordination.Server.Services;

/// <summary>etcd's Lease service: a thin adapter over <see cref="CoordinationNode"/>.</summary>
internal sealed class LeaseService(CoordinationNode node) : Etcdserverpb.Lease.LeaseBase
{
    public override Task<LeaseGrantResponse> LeaseGrant(LeaseGrantRequest request, ServerCallContext context) =>
        node.LeaseGrantAsync(request, context.CancellationToken);

    public override Task<LeaseRevokeResponse> LeaseRevoke(LeaseRevokeRequest request, ServerCallContext context) =>
        node.LeaseRevokeAsync(request, context.CancellationToken);

    /// <summary>One stream renews any number of leases: exactly one response per request, in order.</summary>
    public override async Task LeaseKeepAlive(IAsyncStreamReader<LeaseKeepAliveRequest> requestStream, IServerStreamWriter<LeaseKeepAliveResponse> responseStream, ServerCallContext context)
    {
        var cancellationToken = context.CancellationToken;
        try
        {
            while (await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                await responseStream.WriteAsync(await node.LeaseKeepAliveAsync(requestStream.Current, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (IOException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away (etcdctl exits without closing its stream): nothing to answer.
        }
    }

    public override Task<LeaseTimeToLiveResponse> LeaseTimeToLive(LeaseTimeToLiveRequest request, ServerCallContext context) =>
        node.LeaseTimeToLiveAsync(request, context.CancellationToken);

    public override Task<LeaseLeasesResponse> LeaseLeases(LeaseLeasesRequest request, ServerCallContext context) =>
        Task.FromResult(node.LeaseLeases());
}
