using Coordination.Server.Lease;
using Google.Protobuf;

namespace Coordination.Server.Tests.Apply;

/// <summary>A lessor stand-in: a fixed set of granted leases and the attachments made to them.</summary>
internal sealed class FakeLeases(params long[] granted) : ILeaseAttachments
{
    private readonly HashSet<long> _granted = [.. granted];

    public HashSet<(long Lease, string Key)> Attached { get; } = [];

    public bool Exists(long leaseId) => _granted.Contains(leaseId);

    public void Attach(long leaseId, ByteString key) => Assert.True(Attached.Add((leaseId, key.ToStringUtf8())), "attached twice");

    public void Detach(long leaseId, ByteString key) => Assert.True(Attached.Remove((leaseId, key.ToStringUtf8())), "detached while not attached");
}
