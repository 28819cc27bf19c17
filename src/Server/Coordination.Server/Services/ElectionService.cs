using Coordination.Server.Concurrency;
using Coordination.Server.Errors;
using Grpc.Core;
using V3Electionpb;

namespace Coordination.Server.Services;

/// <summary>etcd's Election service (v3electionpb): a thin adapter over <see cref="Elections"/>.</summary>
internal sealed class ElectionService(Elections elections) : V3Electionpb.Election.ElectionBase
{
    public override Task<CampaignResponse> Campaign(CampaignRequest request, ServerCallContext context) =>
        ClientSide(() => elections.CampaignAsync(request, context.CancellationToken));

    public override Task<ProclaimResponse> Proclaim(ProclaimRequest request, ServerCallContext context) =>
        ClientSide(async () => new ProclaimResponse { Header = await elections.ProclaimAsync(request.Leader, request.Value, context.CancellationToken).ConfigureAwait(false) });

    public override Task<LeaderResponse> Leader(LeaderRequest request, ServerCallContext context) =>
        ClientSide(() => Task.FromResult(elections.Leader(request.Name)));

    public override Task<ResignResponse> Resign(ResignRequest request, ServerCallContext context) =>
        ClientSide(async () => new ResignResponse { Header = await elections.ResignAsync(request.Leader, context.CancellationToken).ConfigureAwait(false) });

    public override async Task Observe(LeaderRequest request, IServerStreamWriter<LeaderResponse> responseStream, ServerCallContext context)
    {
        try
        {
            await foreach (var leader in elections.ObserveAsync(request.Name, context.CancellationToken).ConfigureAwait(false))
            {
                await responseStream.WriteAsync(leader, context.CancellationToken).ConfigureAwait(false);
            }
        }
        catch (EtcdException ex)
        {
            throw ConcurrencyErrors.AsClientSide(ex.Error);
        }
    }

    /// <summary>etcd answers these RPCs as a client of itself: its errors arrive as Unknown.</summary>
    private static async Task<T> ClientSide<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (EtcdException ex)
        {
            throw ConcurrencyErrors.AsClientSide(ex.Error);
        }
    }
}
