using Google.Protobuf;

namespace Coordination.Server.Lease;

/// <summary>
/// What the key-value apply layer needs from the lessor: whether a lease exists, and the
/// bookkeeping of which keys are attached to which lease. Implemented by the lessor; the KV
/// layer never sees lease expiry.
/// </summary>
internal interface ILeaseAttachments
{
    /// <summary>True when a lease with this id has been granted and not revoked.</summary>
    bool Exists(long leaseId);

    /// <summary>Records that <paramref name="key"/> now carries <paramref name="leaseId"/>.</summary>
    void Attach(long leaseId, ByteString key);

    /// <summary>Records that <paramref name="key"/> no longer carries <paramref name="leaseId"/>.</summary>
    void Detach(long leaseId, ByteString key);
}
