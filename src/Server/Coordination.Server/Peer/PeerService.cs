using Coordination.Raft.Protocol;
using Coordination.Server.Node;
using Coordination.Server.Peer.Protocol;
using Grpc.Core;

namespace Coordination.Server.Peer;

/// <summary>
/// The inbound half of the peer transport, served on <c>--listen-peer-urls</c>: frames from a peer's
/// stream go into the node loop's inbox in order; <c>Cluster</c> tells a joining member the cluster
/// id and the member table.
/// </summary>
internal sealed class PeerService(CoordinationNode node) : Protocol.Peer.PeerBase
{
    public override async Task<PeerAck> Send(IAsyncStreamReader<PeerFrame> requestStream, ServerCallContext context)
    {
        while (await requestStream.MoveNext(context.CancellationToken).ConfigureAwait(false))
        {
            node.DeliverPeerMessage(Message.Parser.ParseFrom(requestStream.Current.Message));
        }
        return new PeerAck();
    }

    public override Task<ClusterResponse> Cluster(ClusterRequest request, ServerCallContext context) =>
        Task.FromResult(node.PeerCluster());
}
