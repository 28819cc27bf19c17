using Coordination.Client;
using Coordination.Testcontainers;

namespace Coordination.Integration.Tests.Containers;

/// <summary>
/// A cluster of our server or of real etcd 3.4 for the scenarios: the images built from the
/// repository, then the public Testcontainers module (<see cref="CoordinationCluster"/>, the one
/// users get) with every member's client port on a fixed loopback port, plus what the scenarios ask
/// of a cluster (its leader, a follower).
/// </summary>
public sealed class ContainerCluster : IAsyncDisposable
{
    private ContainerCluster(ClusterKind kind, CoordinationCluster cluster)
    {
        Kind = kind;
        Cluster = cluster;
    }

    /// <summary>What the cluster runs.</summary>
    public ClusterKind Kind { get; }

    /// <summary>The module's cluster.</summary>
    public CoordinationCluster Cluster { get; }

    /// <summary>The members, in start order.</summary>
    public IReadOnlyList<CoordinationClusterMember> Members => Cluster.Members;

    /// <summary>Builds the images if needed and starts <paramref name="size"/> members at once.</summary>
    public static async Task<ContainerCluster> StartAsync(ClusterKind kind, int size, CancellationToken cancellationToken)
    {
        await TestImages.EnsureBuiltAsync(cancellationToken).ConfigureAwait(false);
        var cluster = await new CoordinationClusterBuilder()
            .WithImage(kind == ClusterKind.Etcd ? TestImages.Etcd : TestImages.Server)
            .WithMembers(size)
            .WithClusterToken("coordination-it")
            .StartAsync(cancellationToken).ConfigureAwait(false);
        return new ContainerCluster(kind, cluster);
    }

    /// <summary>The member all reachable members name as leader (asking each member, bounded).</summary>
    public async Task<CoordinationClusterMember> LeaderAsync(CancellationToken cancellationToken)
    {
        await using var client = CoordinationClient.Create(Cluster.ConnectionString);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            var ids = new Dictionary<ulong, CoordinationClusterMember>();
            var leaders = new HashSet<ulong>();
            foreach (var member in Members)
            {
                try
                {
                    var status = await client.Maintenance.StatusAsync(member.Endpoint, timeout.Token).ConfigureAwait(false);
                    ids[status.Header.MemberId] = member;
                    if (status.Leader != 0) leaders.Add(status.Leader);
                }
                catch (Exception) when (!timeout.IsCancellationRequested)
                {
                    // a member down or paused: ask the others
                }
            }
            if (leaders.Count == 1 && ids.TryGetValue(leaders.Single(), out var leader)) return leader;
            await Task.Delay(200, timeout.Token).ConfigureAwait(false);
        }
    }

    /// <summary>A member that is not the leader.</summary>
    public async Task<CoordinationClusterMember> FollowerAsync(CancellationToken cancellationToken)
    {
        var leader = await LeaderAsync(cancellationToken).ConfigureAwait(false);
        return Members.First(m => m != leader);
    }

    /// <summary>Member names with container ids, for failure messages.</summary>
    public override string ToString() => $"{Kind} cluster [{string.Join(", ", Members)}]";

    /// <summary>Removes every container and the network.</summary>
    public ValueTask DisposeAsync() => Cluster.DisposeAsync();
}
