using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Coordination.Server.Node;

/// <summary>
/// The ids a member puts in every response header. Like etcd, a member id is derived from the
/// member's sorted peer URLs and the cluster token, and the cluster id from the member ids, so the
/// same bootstrap flags give the same ids on every start.
/// </summary>
internal sealed record MemberIdentity(ulong ClusterId, ulong MemberId, string Name)
{
    /// <summary>Derives the identity of <paramref name="name"/> within <paramref name="cluster"/>.</summary>
    public static MemberIdentity Derive(string name, IReadOnlyList<Uri> peerUrls, IReadOnlyList<(string Name, Uri PeerUrl)> cluster, string token)
    {
        var memberIds = cluster
            .GroupBy(m => m.Name, StringComparer.Ordinal)
            .Select(g => MemberIdOf(g.Select(m => m.PeerUrl), token))
            .OrderBy(id => id)
            .ToList();
        var self = MemberIdOf(peerUrls, token);
        if (!memberIds.Contains(self)) memberIds.Add(self);
        memberIds.Sort();
        var buffer = new byte[8 * memberIds.Count];
        for (var i = 0; i < memberIds.Count; i++) BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan(8 * i), memberIds[i]);
        return new MemberIdentity(FirstEight(SHA1.HashData(buffer)), self, name);
    }

    /// <summary>A member's id from its peer URLs and the cluster token.</summary>
    public static ulong MemberIdOf(IEnumerable<Uri> peerUrls, string token)
    {
        var joined = string.Concat(peerUrls.Select(u => u.GetLeftPart(UriPartial.Authority)).Order(StringComparer.Ordinal)) + token;
        return FirstEight(SHA1.HashData(Encoding.UTF8.GetBytes(joined)));
    }

    private static ulong FirstEight(byte[] hash) => BinaryPrimitives.ReadUInt64BigEndian(hash);
}
