using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Networks;

namespace Coordination.Integration.Tests.Containers;

/// <summary>
/// A cluster of our server or of real etcd 3.4 in containers, on a network of its own where the
/// members reach each other by name (node1, node2, ...), each with its client port mapped to a
/// random loopback port on the host. Started with etcd's own cluster flags, all members at once
/// (a member reports healthy only once a leader exists).
/// </summary>
public sealed class ContainerCluster : IAsyncDisposable
{
    /// <summary>The client port inside every container.</summary>
    public const ushort ClientPort = 2379;

    /// <summary>The peer port inside every container.</summary>
    public const ushort PeerPort = 2380;

    private readonly INetwork _network;

    private ContainerCluster(ClusterKind kind, INetwork network, IReadOnlyList<ClusterMember> members)
    {
        Kind = kind;
        _network = network;
        Members = members;
    }

    /// <summary>What the cluster runs.</summary>
    public ClusterKind Kind { get; }

    /// <summary>The members, in name order.</summary>
    public IReadOnlyList<ClusterMember> Members { get; }

    /// <summary>Builds the images if needed, creates the network and starts every member.</summary>
    public static async Task<ContainerCluster> StartAsync(ClusterKind kind, int size, CancellationToken cancellationToken)
    {
        await TestImages.EnsureBuiltAsync(cancellationToken).ConfigureAwait(false);
        var network = new NetworkBuilder().WithName($"coordination-it-{Guid.NewGuid():N}").Build();
        await network.CreateAsync(cancellationToken).ConfigureAwait(false);
        var names = Enumerable.Range(1, size).Select(i => $"node{i}").ToList();
        var initialCluster = string.Join(",", names.Select(n => $"{n}=http://{n}:{PeerPort}"));
        var members = names.Select(name => new ClusterMember(name, new ContainerBuilder(kind == ClusterKind.Etcd ? TestImages.Etcd : TestImages.Server)
            .WithName($"{name}-{Guid.NewGuid():N}"[..24])
            .WithNetwork(network)
            .WithNetworkAliases(name)
            .WithPortBinding(ClientPort, assignRandomHostPort: true)
            .WithCommand(
                "--name", name,
                "--data-dir", $"/data/{name}",
                "--listen-client-urls", $"http://0.0.0.0:{ClientPort}",
                "--advertise-client-urls", $"http://{name}:{ClientPort}",
                "--listen-peer-urls", $"http://0.0.0.0:{PeerPort}",
                "--initial-advertise-peer-urls", $"http://{name}:{PeerPort}",
                "--initial-cluster", initialCluster,
                "--initial-cluster-state", "new",
                "--initial-cluster-token", "coordination-it")
            .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(ClientPort).ForPath("/health")))
            .Build())).ToList();
        var cluster = new ContainerCluster(kind, network, members);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromMinutes(2));
            await Task.WhenAll(members.Select(m => m.Container.StartAsync(timeout.Token))).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Member names with container ids, for failure messages.</summary>
    public override string ToString() => $"{Kind} cluster [{string.Join(", ", Members)}]";

    /// <summary>Removes every container and the network.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var member in Members)
        {
            try { await member.Container.DisposeAsync().ConfigureAwait(false); } catch (Exception) { /* best effort; test.sh removes leftovers by label */ }
        }
        try { await _network.DeleteAsync().ConfigureAwait(false); } catch (Exception) { /* best effort */ }
        await _network.DisposeAsync().ConfigureAwait(false);
    }
}
