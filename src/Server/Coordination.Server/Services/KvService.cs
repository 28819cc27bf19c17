using Coordination.Server.Node;
using Etcdserverpb;
using Grpc.Core;

namespace Coordination.Server.Services;

/// <summary>etcd's KV service: a thin adapter over <see cref="CoordinationNode"/>.</summary>
internal sealed class KvService(CoordinationNode node) : KV.KVBase
{
    public override Task<RangeResponse> Range(RangeRequest request, ServerCallContext context) =>
        node.RangeAsync(request, context.CancellationToken);

    public override Task<PutResponse> Put(PutRequest request, ServerCallContext context) =>
        node.PutAsync(request, context.CancellationToken);

    public override Task<DeleteRangeResponse> DeleteRange(DeleteRangeRequest request, ServerCallContext context) =>
        node.DeleteRangeAsync(request, context.CancellationToken);

    public override Task<TxnResponse> Txn(TxnRequest request, ServerCallContext context) =>
        node.TxnAsync(request, context.CancellationToken);

    public override Task<CompactionResponse> Compact(CompactionRequest request, ServerCallContext context) =>
        node.CompactAsync(request, context.CancellationToken);
}
