using Coordination.Client.Errors;
using Coordination.Client.Kv;
using Coordination.Client.Transport;
using Etcdserverpb;
using Grpc.Core;
using ResponseHeader = Coordination.Client.Kv.ResponseHeader;

namespace Coordination.Client.Lease;

/// <summary>The Lease service: unary calls over the <see cref="CallRunner"/>, keep-alive through the <see cref="LeaseKeepAliveHub"/>.</summary>
internal sealed class LeaseClient(CallRunner runner, LeaseKeepAliveHub hub, CoordinationClientOptions options) : ILeaseClient
{
    public async Task<LeaseGrantResult> GrantAsync(long ttlSeconds, long id = 0, CancellationToken cancellationToken = default)
    {
        var request = new LeaseGrantRequest { TTL = ttlSeconds, ID = id };
        // A repeated grant with a server-chosen ID only leaks a lease that expires; with a fixed ID the
        // repeat fails with "lease already exists", so a grant is treated as repeatable only without one.
        var kind = id == 0 ? CallKind.Repeatable : CallKind.NonRepeatable;
        var response = await runner.UnaryAsync("Lease/LeaseGrant", kind,
            (invoker, o) => new Etcdserverpb.Lease.LeaseClient(invoker).LeaseGrantAsync(request, o), cancellationToken).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(response.Error))
        {
            throw new EtcdException(StatusCode.Unknown, response.Error);
        }

        return new LeaseGrantResult(response.ID, response.TTL, ResponseHeader.From(response.Header));
    }

    public async Task RevokeAsync(long id, CancellationToken cancellationToken = default)
    {
        var request = new LeaseRevokeRequest { ID = id };
        await runner.UnaryAsync("Lease/LeaseRevoke", CallKind.Repeatable,
            (invoker, o) => new Etcdserverpb.Lease.LeaseClient(invoker).LeaseRevokeAsync(request, o), cancellationToken).ConfigureAwait(false);
    }

    public async Task<LeaseTimeToLiveResult> TimeToLiveAsync(long id, bool keys = false, CancellationToken cancellationToken = default)
    {
        var request = new LeaseTimeToLiveRequest { ID = id, Keys = keys };
        var response = await runner.UnaryAsync("Lease/LeaseTimeToLive", CallKind.Repeatable,
            (invoker, o) => new Etcdserverpb.Lease.LeaseClient(invoker).LeaseTimeToLiveAsync(request, o), cancellationToken).ConfigureAwait(false);
        return new LeaseTimeToLiveResult(response.ID, response.TTL, response.GrantedTTL, [.. response.Keys.Select(k => k.Memory)]);
    }

    public async Task<IReadOnlyList<long>> ListAsync(CancellationToken cancellationToken = default)
    {
        var response = await runner.UnaryAsync("Lease/LeaseLeases", CallKind.Repeatable,
            (invoker, o) => new Etcdserverpb.Lease.LeaseClient(invoker).LeaseLeasesAsync(new LeaseLeasesRequest(), o), cancellationToken).ConfigureAwait(false);
        return [.. response.Leases.Select(l => l.ID)];
    }

    public async Task<long> KeepAliveOnceAsync(long id, CancellationToken cancellationToken = default)
    {
        var response = await runner.UnaryAsync("Lease/LeaseKeepAlive", CallKind.Repeatable,
            (invoker, o) => OnceAsync(invoker, o, id), cancellationToken).ConfigureAwait(false);
        if (response.TTL <= 0)
        {
            throw new EtcdLeaseNotFoundException("etcdserver: requested lease not found");
        }

        return response.TTL;
    }

    public async Task<ILeaseKeepAlive> KeepAliveAsync(long id, CancellationToken cancellationToken = default)
    {
        var ttl = await TimeToLiveAsync(id, false, cancellationToken).ConfigureAwait(false);
        if (ttl.TtlSeconds <= 0)
        {
            throw new EtcdLeaseNotFoundException("etcdserver: requested lease not found");
        }

        return hub.Add(id, ttl.GrantedTtlSeconds, options.TimeProvider.GetUtcNow() + TimeSpan.FromSeconds(ttl.TtlSeconds));
    }

    public async Task<ILeaseKeepAlive> GrantAndKeepAliveAsync(long ttlSeconds, CancellationToken cancellationToken = default)
    {
        var before = options.TimeProvider.GetUtcNow();
        var grant = await GrantAsync(ttlSeconds, 0, cancellationToken).ConfigureAwait(false);
        return hub.Add(grant.Id, grant.TtlSeconds, before + TimeSpan.FromSeconds(grant.TtlSeconds));
    }

    /// <summary>One request and one answer on a short-lived keep-alive stream, shaped as a unary call for the runner.</summary>
    private static AsyncUnaryCall<LeaseKeepAliveResponse> OnceAsync(CallInvoker invoker, CallOptions options, long id)
    {
        var call = new Etcdserverpb.Lease.LeaseClient(invoker).LeaseKeepAlive(options);
        async Task<LeaseKeepAliveResponse> RunAsync()
        {
            try
            {
                await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id }).ConfigureAwait(false);
                await call.RequestStream.CompleteAsync().ConfigureAwait(false);
                if (!await call.ResponseStream.MoveNext(options.CancellationToken).ConfigureAwait(false))
                {
                    throw new RpcException(new Status(StatusCode.Unavailable, "keep-alive stream ended without an answer"));
                }

                return call.ResponseStream.Current;
            }
            finally
            {
                call.Dispose();
            }
        }

        return new AsyncUnaryCall<LeaseKeepAliveResponse>(RunAsync(), Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => [], () => { });
    }
}
