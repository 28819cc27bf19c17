using Coordination.Client.Transport;
using Etcdserverpb;

namespace Coordination.Client.Cluster;

/// <summary>A cluster member.</summary>
/// <param name="Id">Member ID.</param>
/// <param name="Name">Member name (empty until a new member has started).</param>
/// <param name="PeerUrls">URLs other members reach it on.</param>
/// <param name="ClientUrls">URLs clients reach it on (empty until started).</param>
/// <param name="IsLearner">Whether it is a non-voting learner.</param>
public sealed record Member(ulong Id, string Name, IReadOnlyList<string> PeerUrls, IReadOnlyList<string> ClientUrls, bool IsLearner)
{
    internal static Member From(Etcdserverpb.Member m) => new(m.ID, m.Name, [.. m.PeerURLs], [.. m.ClientURLs], m.IsLearner);
}

/// <summary>Cluster membership. Changes are writes: never repeated after an ambiguous failure.</summary>
public interface IClusterClient
{
    /// <summary>Every member.</summary>
    Task<IReadOnlyList<Member>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds a member (a learner when <paramref name="isLearner"/>); returns it and the new member list.</summary>
    Task<(Member Added, IReadOnlyList<Member> Members)> AddAsync(IEnumerable<string> peerUrls, bool isLearner = false, CancellationToken cancellationToken = default);

    /// <summary>Promotes a learner that caught up to a voting member.</summary>
    Task<IReadOnlyList<Member>> PromoteAsync(ulong id, CancellationToken cancellationToken = default);

    /// <summary>Removes a member.</summary>
    Task<IReadOnlyList<Member>> RemoveAsync(ulong id, CancellationToken cancellationToken = default);

    /// <summary>Changes a member's peer URLs.</summary>
    Task<IReadOnlyList<Member>> UpdateAsync(ulong id, IEnumerable<string> peerUrls, CancellationToken cancellationToken = default);
}

/// <summary>The Cluster service over the <see cref="CallRunner"/>.</summary>
internal sealed class ClusterClient(CallRunner runner) : IClusterClient
{
    public async Task<IReadOnlyList<Member>> ListAsync(CancellationToken cancellationToken = default)
    {
        var response = await runner.UnaryAsync("Cluster/MemberList", CallKind.Repeatable,
            (invoker, o) => new Etcdserverpb.Cluster.ClusterClient(invoker).MemberListAsync(new MemberListRequest(), o), cancellationToken).ConfigureAwait(false);
        return [.. response.Members.Select(Member.From)];
    }

    public async Task<(Member Added, IReadOnlyList<Member> Members)> AddAsync(IEnumerable<string> peerUrls, bool isLearner = false, CancellationToken cancellationToken = default)
    {
        var request = new MemberAddRequest { IsLearner = isLearner };
        request.PeerURLs.AddRange(peerUrls);
        var response = await runner.UnaryAsync("Cluster/MemberAdd", CallKind.NonRepeatable,
            (invoker, o) => new Etcdserverpb.Cluster.ClusterClient(invoker).MemberAddAsync(request, o), cancellationToken).ConfigureAwait(false);
        return (Member.From(response.Member), [.. response.Members.Select(Member.From)]);
    }

    public async Task<IReadOnlyList<Member>> PromoteAsync(ulong id, CancellationToken cancellationToken = default)
    {
        var request = new MemberPromoteRequest { ID = id };
        var response = await runner.UnaryAsync("Cluster/MemberPromote", CallKind.NonRepeatable,
            (invoker, o) => new Etcdserverpb.Cluster.ClusterClient(invoker).MemberPromoteAsync(request, o), cancellationToken).ConfigureAwait(false);
        return [.. response.Members.Select(Member.From)];
    }

    public async Task<IReadOnlyList<Member>> RemoveAsync(ulong id, CancellationToken cancellationToken = default)
    {
        var request = new MemberRemoveRequest { ID = id };
        var response = await runner.UnaryAsync("Cluster/MemberRemove", CallKind.NonRepeatable,
            (invoker, o) => new Etcdserverpb.Cluster.ClusterClient(invoker).MemberRemoveAsync(request, o), cancellationToken).ConfigureAwait(false);
        return [.. response.Members.Select(Member.From)];
    }

    public async Task<IReadOnlyList<Member>> UpdateAsync(ulong id, IEnumerable<string> peerUrls, CancellationToken cancellationToken = default)
    {
        var request = new MemberUpdateRequest { ID = id };
        request.PeerURLs.AddRange(peerUrls);
        var response = await runner.UnaryAsync("Cluster/MemberUpdate", CallKind.NonRepeatable,
            (invoker, o) => new Etcdserverpb.Cluster.ClusterClient(invoker).MemberUpdateAsync(request, o), cancellationToken).ConfigureAwait(false);
        return [.. response.Members.Select(Member.From)];
    }
}
