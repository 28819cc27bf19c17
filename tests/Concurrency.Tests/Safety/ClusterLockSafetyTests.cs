using Coordination.Client.Tests.Fixtures;
using Coordination.Compatibility.Tests.Cluster;
using Coordination.Concurrency.Locking;

namespace Coordination.Concurrency.Tests.Safety;

/// <summary>
/// The lock torture on three-member clusters, each contender talking to a different member (its lock
/// transactions, watches and keep-alives go through that member): ours and a real etcd 3.4. Runs
/// alone, as the other process-cluster tests do.
/// </summary>
[Collection(LocalCluster.Collection)]
public sealed class ClusterLockSafetyTests : IAsyncLifetime
{
    private readonly List<ICoordinationClient> _clients = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task On_three_members_of_our_server_fencing_tokens_increase_and_no_update_is_lost()
    {
        await using var cluster = await LocalCluster.StartAsync(3, Ct);

        var torture = await RunAsync([.. cluster.Members.Select(m => m.ClientUrl)]);

        Assert.True(torture.Checker.Violations.Count == 0, string.Join("\n", torture.Checker.Violations) + "\n" + cluster.Logs());
    }

    [Fact]
    public async Task On_three_members_of_etcd_fencing_tokens_increase_and_no_update_is_lost()
    {
        await using var cluster = await EtcdCluster.StartAsync(3, Ct);

        var torture = await RunAsync(cluster.ClientUrls);

        Assert.Empty(torture.Checker.Violations);
    }

    private async Task<LockTorture> RunAsync(IReadOnlyList<string> endpoints)
    {
        var next = 0;
        ICoordinationClient PinnedClient()
        {
            var endpoint = endpoints[Interlocked.Increment(ref next) % endpoints.Count];
            var client = CoordinationClient.Create(new CoordinationClientOptions { Endpoints = [endpoint], CallTimeout = TimeSpan.FromSeconds(10) });
            lock (_clients)
            {
                _clients.Add(client);
            }

            return client;
        }

        var name = $"/concurrency/{Guid.NewGuid():N}";
        var torture = new LockTorture(PinnedClient, name, (session, n) => new CoordinationMutex(session, n, TimeProvider.System), new TortureOptions { Contenders = 3, Grants = 150, TimeLimit = TimeSpan.FromSeconds(90) });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await torture.RunAsync(Ct);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{torture.Checker.Grants} grants, {torture.Checker.Increments} fenced increments, {torture.SessionsExpiredWhileWaiting} waiters refused, {torture.Crashes} crashes, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(torture.Checker.Grants >= 150, $"only {torture.Checker.Grants} grants within the time limit");
        Assert.True(torture.SessionsExpiredWhileWaiting > 0);
        return torture;
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }
    }
}
