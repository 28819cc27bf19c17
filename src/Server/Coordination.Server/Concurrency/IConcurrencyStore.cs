using Etcdserverpb;

namespace Coordination.Server.Concurrency;

/// <summary>
/// What the Lock and Election services need of the member: the same KV and lease operations a
/// client has (each write through the one write path), and response headers for answers they
/// build themselves. Implemented by the node façade.
/// </summary>
internal interface IConcurrencyStore
{
    /// <summary>A linearizable range.</summary>
    RangeResponse Range(RangeRequest request);

    /// <summary>A txn.</summary>
    Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken);

    /// <summary>A delete-range.</summary>
    Task<DeleteRangeResponse> DeleteRangeAsync(DeleteRangeRequest request, CancellationToken cancellationToken);

    /// <summary>A lease grant.</summary>
    Task<LeaseGrantResponse> LeaseGrantAsync(LeaseGrantRequest request, CancellationToken cancellationToken);

    /// <summary>A response header (cluster, member, term) at <paramref name="revision"/>.</summary>
    ResponseHeader Header(long revision);
}
