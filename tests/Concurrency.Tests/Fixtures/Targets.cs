using Coordination.Compatibility.Tests.Fixtures;

namespace Coordination.Concurrency.Tests.Fixtures;

/// <summary>What the concurrency suite runs against: every test class has one concrete subclass per target.</summary>
public enum TargetKind
{
    /// <summary>A real etcd 3.4 started by the fixture.</summary>
    Etcd,

    /// <summary>Our server started by the fixture as a child process.</summary>
    Coordination,
}

/// <summary>A running server for the suite.</summary>
public abstract class ConcurrencyTarget : IAsyncLifetime
{
    public abstract TargetKind Kind { get; }

    public string Endpoint { get; protected set; } = string.Empty;

    public abstract ValueTask InitializeAsync();

    public abstract ValueTask DisposeAsync();

    public ICoordinationClient CreateClient() =>
        CoordinationClient.Create(new CoordinationClientOptions { Endpoints = [Endpoint], CallTimeout = TimeSpan.FromSeconds(10) });
}

public sealed class EtcdTarget : ConcurrencyTarget
{
    private EtcdProcess? _etcd;

    public override TargetKind Kind => TargetKind.Etcd;

    public override async ValueTask InitializeAsync()
    {
        _etcd = await EtcdProcess.StartNewAsync();
        Endpoint = _etcd.ClientUrl;
    }

    public override async ValueTask DisposeAsync()
    {
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }
    }
}

public sealed class CoordinationTarget : ConcurrencyTarget
{
    private CoordinationProcess? _server;

    public override TargetKind Kind => TargetKind.Coordination;

    public override async ValueTask InitializeAsync()
    {
        _server = await CoordinationProcess.StartNewAsync();
        Endpoint = _server.ClientUrl;
    }

    public override async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class EtcdCollection : ICollectionFixture<EtcdTarget>
{
    public const string Name = "concurrency on etcd 3.4";
}

[CollectionDefinition(Name)]
public sealed class CoordinationCollection : ICollectionFixture<CoordinationTarget>
{
    public const string Name = "concurrency on coordination";
}

/// <summary>Base of every test class: a client and the recipes on the target, and a unique name per test.</summary>
public abstract class TargetTestBase(ConcurrencyTarget target) : IAsyncLifetime
{
    private readonly List<ICoordinationClient> _clients = [];

    protected ConcurrencyTarget Target { get; } = target;

    protected string Name { get; } = $"/concurrency/{Guid.NewGuid():N}";

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected ICoordinationClient Client { get; private set; } = null!;

    protected ICoordinationConcurrency Recipes { get; private set; } = null!;

    /// <summary>Another client (its own connections and keep-alive stream), disposed with the test.</summary>
    protected ICoordinationClient NewClient()
    {
        var client = Target.CreateClient();
        lock (_clients)
        {
            _clients.Add(client);
        }

        return client;
    }

    public ValueTask InitializeAsync()
    {
        Client = NewClient();
        Recipes = CoordinationConcurrency.Create(Client);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }
}
