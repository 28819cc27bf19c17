using Coordination.Server.Node;
using Etcdserverpb;
using Grpc.Core;

namespace Coordination.Server.Services;

/// <summary>etcd's Cluster service: the member table and membership changes through consensus.</summary>
internal sealed class ClusterService(CoordinationNode node) : Etcdserverpb.Cluster.ClusterBase
{
    public override Task<MemberListResponse> MemberList(MemberListRequest request, ServerCallContext context) =>
        Task.FromResult(node.MemberList());

    public override Task<MemberAddResponse> MemberAdd(MemberAddRequest request, ServerCallContext context) =>
        node.MemberAddAsync(request, context.CancellationToken);

    public override Task<MemberRemoveResponse> MemberRemove(MemberRemoveRequest request, ServerCallContext context) =>
        node.MemberRemoveAsync(request, context.CancellationToken);

    public override Task<MemberUpdateResponse> MemberUpdate(MemberUpdateRequest request, ServerCallContext context) =>
        node.MemberUpdateAsync(request, context.CancellationToken);

    public override Task<MemberPromoteResponse> MemberPromote(MemberPromoteRequest request, ServerCallContext context) =>
        node.MemberPromoteAsync(request, context.CancellationToken);
}
