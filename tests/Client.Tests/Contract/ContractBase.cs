using Coordination.Client.Tests.Fixtures;

namespace Coordination.Client.Tests.Contract;

/// <summary>Base of every contract class: one client per test on the target, and unique keys per test.</summary>
public abstract class ContractBase(ContractTarget target, ContractGroup group) : IAsyncLifetime
{
    private ICoordinationClient? _client;

    protected ContractTarget Target { get; } = target;

    protected string Prefix { get; } = $"/contract/{Guid.NewGuid():N}/";

    protected ICoordinationClient Client => _client ??= Target.CreateClient();

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        Target.SkipUnlessSupported(group);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        GC.SuppressFinalize(this);
    }

    protected string Key(string name) => Prefix + name;
}
