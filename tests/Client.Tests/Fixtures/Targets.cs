using Coordination.Compatibility.Tests.Fixtures;

namespace Coordination.Client.Tests.Fixtures;

/// <summary>Groups of the contract suite; each target declares which it supports in <see cref="TargetMatrix"/>.</summary>
public enum ContractGroup
{
    Kv,
    Txn,
    Watch,
    Lease,
    ClusterRead,
    Membership,
    Maintenance,
    Auth,
}

/// <summary>What the contract suite runs against.</summary>
public enum TargetKind
{
    /// <summary>A real etcd 3.4 started by the fixture.</summary>
    Etcd,

    /// <summary>Our server started by the fixture as a child process.</summary>
    Coordination,

    /// <summary>Whatever <c>COORDINATION_TEST_ENDPOINTS</c> points at.</summary>
    External,
}

/// <summary>
/// THE one place that says which contract groups run against which target. Groups a target does not
/// support are skipped there (with the reason), so flipping a group on here is all it takes once
/// our server gains the feature.
/// </summary>
public static class TargetMatrix
{
    /// <summary>What our server implements: every group.</summary>
    private static readonly ContractGroup[] CoordinationSupports =
    [
        ContractGroup.Kv,
        ContractGroup.Txn,
        ContractGroup.Watch,
        ContractGroup.Lease,
        ContractGroup.ClusterRead,
        ContractGroup.Maintenance,
        ContractGroup.Auth,
        ContractGroup.Membership,
    ];

    public static bool Supports(TargetKind kind, ContractGroup group) => kind switch
    {
        TargetKind.Etcd => true,
        TargetKind.Coordination => CoordinationSupports.Contains(group),
        // Changing membership or enabling auth on somebody else's cluster is not a test's business.
        TargetKind.External => group is not (ContractGroup.Membership or ContractGroup.Auth),
        _ => false,
    };

    public const string EndpointsVariable = "COORDINATION_TEST_ENDPOINTS";
}

/// <summary>A running target for the contract suite.</summary>
public abstract class ContractTarget : IAsyncLifetime
{
    public abstract TargetKind Kind { get; }

    /// <summary>Client URLs; empty when the target is not available (the external one without the variable).</summary>
    public IReadOnlyList<string> Endpoints { get; protected set; } = [];

    /// <summary>Starts a private server of the same kind for tests that change server-wide state (auth); null when the kind cannot.</summary>
    internal virtual Task<ServerProcess?> StartPrivateAsync(string[] extraArgs) => Task.FromResult<ServerProcess?>(null);

    public abstract ValueTask InitializeAsync();

    public abstract ValueTask DisposeAsync();

    public void SkipUnlessSupported(ContractGroup group)
    {
        Assert.SkipWhen(Kind == TargetKind.External && Endpoints.Count == 0, $"{TargetMatrix.EndpointsVariable} is not set.");
        Assert.SkipUnless(TargetMatrix.Supports(Kind, group), $"{group} is not in the target matrix for {Kind} (see TargetMatrix).");
    }

    public ICoordinationClient CreateClient(Action<CoordinationClientOptions>? configure = null)
    {
        var options = new CoordinationClientOptions { Endpoints = [.. Endpoints], CallTimeout = TimeSpan.FromSeconds(10) };
        configure?.Invoke(options);
        return CoordinationClient.Create(options);
    }
}

public sealed class EtcdTarget : ContractTarget
{
    private EtcdProcess? _etcd;

    public override TargetKind Kind => TargetKind.Etcd;

    public override async ValueTask InitializeAsync()
    {
        _etcd = await EtcdProcess.StartNewAsync();
        Endpoints = [_etcd.ClientUrl];
    }

    internal override async Task<ServerProcess?> StartPrivateAsync(string[] extraArgs)
    {
        var etcd = new ConfiguredEtcdProcess(extraArgs);
        await etcd.StartAsync();
        return etcd;
    }

    public override async ValueTask DisposeAsync()
    {
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }
    }
}

public sealed class CoordinationTarget : ContractTarget
{
    private CoordinationProcess? _server;

    public override TargetKind Kind => TargetKind.Coordination;

    public override async ValueTask InitializeAsync()
    {
        _server = await CoordinationProcess.StartNewAsync();
        Endpoints = [_server.ClientUrl];
    }

    internal override async Task<ServerProcess?> StartPrivateAsync(string[] extraArgs) =>
        await CoordinationProcess.StartNewAsync(extraArgs, CancellationToken.None);

    public override async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

public sealed class ExternalTarget : ContractTarget
{
    public override TargetKind Kind => TargetKind.External;

    public override ValueTask InitializeAsync()
    {
        var value = Environment.GetEnvironmentVariable(TargetMatrix.EndpointsVariable);
        Endpoints = value is { Length: > 0 }
            ? [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]
            : [];
        return ValueTask.CompletedTask;
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

[CollectionDefinition(Name)]
public sealed class EtcdCollection : ICollectionFixture<EtcdTarget>
{
    public const string Name = "etcd 3.4";
}

[CollectionDefinition(Name)]
public sealed class CoordinationCollection : ICollectionFixture<CoordinationTarget>
{
    public const string Name = "coordination";
}

[CollectionDefinition(Name)]
public sealed class ExternalCollection : ICollectionFixture<ExternalTarget>
{
    public const string Name = "external";
}
