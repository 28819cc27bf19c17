using Coordination.Compatibility.Tests.Scenarios;

namespace Coordination.Compatibility.Tests;

// One class per scenario group: classes are separate xunit collections and run in parallel; the
// cases of one class run one after the other. Each case starts its own fresh etcd and server pair.
// See Scenarios/Catalogue.cs for the scenarios; COMPAT_TARGET=etcd runs etcd against etcd.

public sealed class KvCompatibilityTests
{
    public static TheoryData<string> Cases => Catalogue.NamesIn(Catalogue.Kv);

    [Theory, MemberData(nameof(Cases))]
    public Task Matches_etcd(string scenario) => ScenarioRunner.RunAsync(Catalogue.Get(scenario), TestContext.Current.CancellationToken);
}

public sealed class TxnCompatibilityTests
{
    public static TheoryData<string> Cases => Catalogue.NamesIn(Catalogue.Txn);

    [Theory, MemberData(nameof(Cases))]
    public Task Matches_etcd(string scenario) => ScenarioRunner.RunAsync(Catalogue.Get(scenario), TestContext.Current.CancellationToken);
}

public sealed class RevisionCompatibilityTests
{
    public static TheoryData<string> Cases => Catalogue.NamesIn(Catalogue.Revisions);

    [Theory, MemberData(nameof(Cases))]
    public Task Matches_etcd(string scenario) => ScenarioRunner.RunAsync(Catalogue.Get(scenario), TestContext.Current.CancellationToken);
}

public sealed class ErrorCompatibilityTests
{
    public static TheoryData<string> Cases => Catalogue.NamesIn(Catalogue.Errors);

    [Theory, MemberData(nameof(Cases))]
    public Task Matches_etcd(string scenario) => ScenarioRunner.RunAsync(Catalogue.Get(scenario), TestContext.Current.CancellationToken);
}

public sealed class MaintenanceCompatibilityTests
{
    public static TheoryData<string> Cases => Catalogue.NamesIn(Catalogue.Maintenance);

    [Theory, MemberData(nameof(Cases))]
    public Task Matches_etcd(string scenario) => ScenarioRunner.RunAsync(Catalogue.Get(scenario), TestContext.Current.CancellationToken);
}

public sealed class WatchCompatibilityTests
{
    public static TheoryData<string> Cases => Catalogue.NamesIn(Catalogue.Watch);

    [Theory, MemberData(nameof(Cases))]
    public Task Matches_etcd(string scenario) => ScenarioRunner.RunAsync(Catalogue.Get(scenario), TestContext.Current.CancellationToken);
}

public sealed class LeaseCompatibilityTests
{
    public static TheoryData<string> Cases => Catalogue.NamesIn(Catalogue.Lease);

    [Theory, MemberData(nameof(Cases))]
    public Task Matches_etcd(string scenario) => ScenarioRunner.RunAsync(Catalogue.Get(scenario), TestContext.Current.CancellationToken);
}

public sealed class ConcurrencyCompatibilityTests
{
    public static TheoryData<string> Cases => Catalogue.NamesIn(Catalogue.Concurrency);

    [Theory, MemberData(nameof(Cases))]
    public Task Matches_etcd(string scenario) => ScenarioRunner.RunAsync(Catalogue.Get(scenario), TestContext.Current.CancellationToken);
}

public sealed class AuthCompatibilityTests
{
    public static TheoryData<string> Cases => Catalogue.NamesIn(Catalogue.Auth);

    [Theory, MemberData(nameof(Cases))]
    public Task Matches_etcd(string scenario) => ScenarioRunner.RunAsync(Catalogue.Get(scenario), TestContext.Current.CancellationToken);
}
