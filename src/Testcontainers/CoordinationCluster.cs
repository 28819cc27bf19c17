using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Networks;

namespace Coordination.Testcontainers;

/// <summary>
/// A running cluster in containers, on a network of its own where members reach each other by
/// name (node1, node2, ...), each member's client port published on a fixed host port below the ephemeral range (so a
/// restarted member keeps its URL and no outgoing connection takes the port while it is down). Started with etcd's cluster flags; disposing removes the
/// containers and the network. Made by <see cref="CoordinationClusterBuilder"/>.
/// </summary>
public sealed class CoordinationCluster : IAsyncDisposable
{
    /// <summary>The client port inside every container.</summary>
    public const ushort ClientPort = 2379;

    /// <summary>The peer port inside every container.</summary>
    public const ushort PeerPort = 2380;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);
    private readonly INetwork _network;
    private readonly List<CoordinationClusterMember> _members;
    private readonly string _image;
    private readonly string _token;
    private readonly string[] _extraArguments;

    private CoordinationCluster(INetwork network, List<CoordinationClusterMember> members, string image, string token, string[] extraArguments)
    {
        _network = network;
        _members = members;
        _image = image;
        _token = token;
        _extraArguments = extraArguments;
    }

    /// <summary>The members started so far (added ones included, removed ones not), in start order.</summary>
    public IReadOnlyList<CoordinationClusterMember> Members => _members;

    /// <summary>Every member's client URL, for a client's endpoint list.</summary>
    public IReadOnlyList<string> Endpoints => [.. _members.Select(m => m.Endpoint)];

    /// <summary>The endpoints joined by commas (the form <c>--endpoints</c> and connection strings take).</summary>
    public string ConnectionString => string.Join(",", Endpoints);

    /// <summary>The image the members run.</summary>
    public string Image => _image;

    internal static async Task<CoordinationCluster> StartAsync(string image, int size, string token, string[] extraArguments, CancellationToken cancellationToken)
    {
        var network = new NetworkBuilder().WithName($"coordination-{Guid.NewGuid():N}").Build();
        await network.CreateAsync(cancellationToken).ConfigureAwait(false);
        var names = Enumerable.Range(1, size).Select(i => $"node{i}").ToList();
        var initialCluster = string.Join(",", names.Select(n => $"{n}=http://{n}:{PeerPort}"));
        var cluster = new CoordinationCluster(network, [], image, token, extraArguments);
        try
        {
            foreach (var name in names) cluster._members.Add(cluster.Create(name, initialCluster, "new"));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(StartTimeout);
            // A member reports healthy only once a leader exists: start them all at once.
            await Task.WhenAll(cluster._members.Select(m => m.Container.StartAsync(timeout.Token))).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Starts a container for a member that was already added to the cluster's configuration (with
    /// the Cluster API's MemberAdd on the peer URL <c>http://&lt;name&gt;:2380</c>),
    /// with <c>--initial-cluster-state existing</c> and <paramref name="initialCluster"/> as MemberAdd's answer lists it.
    /// </summary>
    public async Task<CoordinationClusterMember> StartAddedMemberAsync(string name, IEnumerable<(string Name, string PeerUrl)> initialCluster, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(initialCluster);
        var member = Create(name, string.Join(",", initialCluster.Select(m => $"{m.Name}={m.PeerUrl}")), "existing");
        _members.Add(member);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        await member.Container.StartAsync(timeout.Token).ConfigureAwait(false);
        return member;
    }

    /// <summary>Stops and removes a member's container (after it was removed from the configuration, or to lose it).</summary>
    public async Task DropMemberAsync(CoordinationClusterMember member, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(member);
        _members.Remove(member);
        await member.Container.DisposeAsync().ConfigureAwait(false);
    }

    private CoordinationClusterMember Create(string name, string initialCluster, string state)
    {
        var hostPort = LoopbackPorts.Pick();
        var container = new ContainerBuilder(_image)
            .WithName($"{name}-{Guid.NewGuid():N}"[..24])
            .WithNetwork(_network)
            .WithNetworkAliases(name)
            .WithPortBinding(hostPort, ClientPort)
            .WithCommand([
                "--name", name,
                "--data-dir", $"/data/{name}",
                "--listen-client-urls", $"http://0.0.0.0:{ClientPort}",
                "--advertise-client-urls", $"http://{name}:{ClientPort}",
                "--listen-peer-urls", $"http://0.0.0.0:{PeerPort}",
                "--initial-advertise-peer-urls", $"http://{name}:{PeerPort}",
                "--initial-cluster", initialCluster,
                "--initial-cluster-state", state,
                "--initial-cluster-token", _token,
                .. _extraArguments])
            .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(ClientPort).ForPath("/health")))
            .Build();
        return new CoordinationClusterMember(name, container, hostPort, _network.Name);
    }

    /// <inheritdoc />
    public override string ToString() => $"{_image} cluster [{string.Join(", ", _members)}]";

    /// <summary>Removes every container and the network.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var member in _members)
        {
            try { await member.Container.DisposeAsync().ConfigureAwait(false); }
            catch (Exception) { /* best effort: everything carries the org.testcontainers label for cleanup */ }
        }
        try { await _network.DeleteAsync().ConfigureAwait(false); }
        catch (Exception) { /* best effort */ }
        await _network.DisposeAsync().ConfigureAwait(false);
    }
}
