using System.Diagnostics;
using DotNet.Testcontainers.Containers;

namespace Coordination.Testcontainers;

/// <summary>
/// One member of a <see cref="CoordinationCluster"/>: its name (also its network alias), its
/// container, a client URL on loopback that stays the same across restarts, and faults to inject.
/// </summary>
public sealed class CoordinationClusterMember
{
    private readonly string _networkName;

    internal CoordinationClusterMember(string name, IContainer container, int hostPort, string networkName)
    {
        Name = name;
        Container = container;
        HostPort = hostPort;
        _networkName = networkName;
    }

    /// <summary>The member name and network alias (node1, node2, ...).</summary>
    public string Name { get; }

    /// <summary>The container.</summary>
    public IContainer Container { get; }

    /// <summary>The loopback port the client port is published on; kept across stop and start.</summary>
    public int HostPort { get; }

    /// <summary>The client URL as seen from the host, <c>http://127.0.0.1:&lt;port&gt;</c>.</summary>
    public Uri ClientUrl => new($"http://127.0.0.1:{HostPort}");

    /// <summary>The client URL without a trailing slash, as client options take it.</summary>
    public string Endpoint => $"http://127.0.0.1:{HostPort}";

    /// <summary>The peer URL other members use, <c>http://&lt;name&gt;:2380</c>.</summary>
    public string PeerUrl => $"http://{Name}:{CoordinationCluster.PeerPort}";

    /// <summary>Stops the container (the process gets SIGTERM, then SIGKILL); its data stays.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => Container.StopAsync(cancellationToken);

    /// <summary>Starts the stopped container again and waits until it answers <c>/health</c>.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => Container.StartAsync(cancellationToken);

    /// <summary>Freezes every process of the member (SIGSTOP-like; calls to it hang).</summary>
    public Task PauseAsync(CancellationToken cancellationToken = default) => Container.PauseAsync(cancellationToken);

    /// <summary>Resumes a paused member.</summary>
    public Task UnpauseAsync(CancellationToken cancellationToken = default) => Container.UnpauseAsync(cancellationToken);

    /// <summary>Cuts the member off the cluster's network (no peer traffic, no client traffic through its port).</summary>
    public Task DisconnectAsync(CancellationToken cancellationToken = default) =>
        DockerCli.RunAsync(["network", "disconnect", "--force", _networkName, Container.Id], cancellationToken);

    /// <summary>Connects a disconnected member again, under its name.</summary>
    public Task ReconnectAsync(CancellationToken cancellationToken = default) =>
        DockerCli.RunAsync(["network", "connect", "--alias", Name, _networkName, Container.Id], cancellationToken);

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Container.Id[..Math.Min(12, Container.Id.Length)]})";
}

/// <summary>The docker command line, for what Testcontainers does not offer (network disconnect).</summary>
internal static class DockerCli
{
    public static async Task RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start docker");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"docker {string.Join(' ', arguments)} failed ({process.ExitCode}): {await stderr.ConfigureAwait(false)}{await stdout.ConfigureAwait(false)}");
        }
    }
}
