using Coordination.Server.Node;
using Etcdserverpb;
using Grpc.Core;

namespace Coordination.Server.Services;

/// <summary>etcd's Cluster service. A single member lists itself; membership changes arrive with consensus.</summary>
internal sealed class ClusterService(CoordinationNode node) : Cluster.ClusterBase
{
    public override Task<MemberListResponse> MemberList(MemberListRequest request, ServerCallContext context) =>
        Task.FromResult(node.MemberList());
}
