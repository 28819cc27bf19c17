using Coordination.Raft.Protocol;
using Coordination.Server.Node;
using Coordination.Server.Peer.Protocol;
using Grpc.Core;

namespace Coordination.Server.Peer;

/// <summary>
/// The inbound half of the peer transport, served on <c>--listen-peer-urls</c>: frames from a peer's
/// stream go into the node loop's inbox in order, a snapshot image sent in chunks joined to its
/// MsgSnap first (<see cref="SnapshotChunkAssembler"/>); <c>Cluster</c> tells a joining member the cluster
/// id and the member table.
/// </summary>
internal sealed class PeerService(CoordinationNode node) : Protocol.Peer.PeerBase
{
    public override async Task<PeerAck> Send(IAsyncStreamReader<PeerFrame> requestStream, ServerCallContext context)
    {
        // Streams from peers never end by themselves: end them when this member stops (once a leader
        // has handed over, see CoordinationNode.PeerStreamsEnded).
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, node.PeerStreamsEnded);
        var snapshot = new SnapshotChunkAssembler();
        try
        {
            while (await requestStream.MoveNext(ended.Token).ConfigureAwait(false))
            {
                var frame = requestStream.Current;
                snapshot.Append(frame.SnapshotChunk);
                if (frame.Message is { } first) node.DeliverPeerMessage(snapshot.Complete(first));
                for (var i = 0; i < frame.Batch.Count; i++) node.DeliverPeerMessage(snapshot.Complete(frame.Batch[i]));
            }
        }
        catch (OperationCanceledException) when (node.PeerStreamsEnded.IsCancellationRequested)
        {
        }
        return new PeerAck();
    }

    public override Task<LeaseRenewResponse> LeaseRenew(LeaseRenewRequest request, ServerCallContext context) =>
        Task.FromResult(new LeaseRenewResponse { Ttl = node.LeaseKeepAlive(new Etcdserverpb.LeaseKeepAliveRequest { ID = request.Id }).TTL });

    public override Task<LeaseRemainingResponse> LeaseRemaining(LeaseRemainingRequest request, ServerCallContext context) =>
        Task.FromResult(new LeaseRemainingResponse { Ttl = node.LeaseTimeToLive(new Etcdserverpb.LeaseTimeToLiveRequest { ID = request.Id }).TTL });

    public override Task<ClusterResponse> Cluster(ClusterRequest request, ServerCallContext context) =>
        Task.FromResult(node.PeerCluster());
}
