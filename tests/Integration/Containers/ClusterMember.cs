using DotNet.Testcontainers.Containers;

namespace Coordination.Integration.Tests.Containers;

/// <summary>One member of a container cluster: its name (also its network alias) and its container.</summary>
public sealed class ClusterMember(string name, IContainer container)
{
    /// <summary>The member name and network alias (node1, node2, ...).</summary>
    public string Name { get; } = name;

    /// <summary>The container.</summary>
    public IContainer Container { get; } = container;

    /// <summary>The client URL as seen from the host. Re-read after a restart: the mapped port changes.</summary>
    public Uri ClientUrl => new($"http://127.0.0.1:{Container.GetMappedPublicPort(ContainerCluster.ClientPort)}");

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Container.Id[..12]})";
}
