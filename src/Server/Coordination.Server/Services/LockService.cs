using Coordination.Server.Concurrency;
using Coordination.Server.Errors;
using Grpc.Core;
using V3Lockpb;

namespace Coordination.Server.Services;

/// <summary>etcd's Lock service (v3lockpb): a thin adapter over <see cref="Locks"/>.</summary>
internal sealed class LockService(Locks locks) : V3Lockpb.Lock.LockBase
{
    public override async Task<LockResponse> Lock(LockRequest request, ServerCallContext context)
    {
        try
        {
            var acquired = await locks.LockAsync(request.Name, request.Lease, context.CancellationToken).ConfigureAwait(false);
            return new LockResponse { Header = acquired.Header, Key = acquired.Key };
        }
        catch (EtcdException ex)
        {
            throw ConcurrencyErrors.AsClientSide(ex.Error);
        }
    }

    public override async Task<UnlockResponse> Unlock(UnlockRequest request, ServerCallContext context)
    {
        try
        {
            return new UnlockResponse { Header = await locks.UnlockAsync(request.Key, context.CancellationToken).ConfigureAwait(false) };
        }
        catch (EtcdException ex)
        {
            throw ConcurrencyErrors.AsClientSide(ex.Error);
        }
    }
}
