using Coordination.Concurrency.DistributedLocking;
using Coordination.Concurrency.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Concurrency.Tests.Contract;

public abstract class DistributedLockContract(ConcurrencyTarget target) : TargetTestBase(target)
{
    [Fact]
    public async Task Two_acquisitions_in_one_process_exclude_each_other()
    {
        var provider = Provider();
        var first = await provider.CreateLock(Name).AcquireAsync(cancellationToken: Ct);

        Assert.Null(await provider.CreateLock(Name).TryAcquireAsync(cancellationToken: Ct));
        Assert.Null(await provider.CreateLock(Name).TryAcquireAsync(TimeSpan.FromMilliseconds(300), Ct));
        await Assert.ThrowsAsync<TimeoutException>(async () => await provider.CreateLock(Name).AcquireAsync(TimeSpan.FromMilliseconds(300), Ct));
        var waiting = provider.CreateLock(Name).AcquireAsync(cancellationToken: Ct).AsTask();

        await first.DisposeAsync();

        await using var second = await waiting.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.True(second.FencingToken > first.FencingToken);
        Assert.True(first.HandleLostToken.IsCancellationRequested);
        Assert.False(second.HandleLostToken.IsCancellationRequested);
    }

    [Fact]
    public async Task The_handle_lost_token_fires_when_the_lease_is_revoked()
    {
        await using var handle = await Provider().CreateLock(Name).AcquireAsync(cancellationToken: Ct);
        var keys = await Client.Kv.GetPrefixAsync(Name + "/", cancellationToken: Ct);

        await NewClient().Lease.RevokeAsync(Assert.Single(keys.Kvs).Lease, Ct);

        await SessionContract.WaitLostAsync(handle.HandleLostToken, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Dependency_injection_registers_the_recipes_and_the_provider()
    {
        var services = new ServiceCollection();
        services.AddCoordinationClient(o => o.Endpoints.Add(Target.Endpoint));
        services.AddCoordinationConcurrency(o => o.LockPrefix = Name + "-di/");
        await using var container = services.BuildServiceProvider();

        var recipes = container.GetRequiredService<ICoordinationConcurrency>();
        await using (var handle = await container.GetRequiredService<IDistributedLockProvider>().CreateLock("job").AcquireAsync(cancellationToken: Ct))
        {
            Assert.Equal(1, (await recipes.Client.Kv.GetPrefixAsync(Name + "-di/job/", cancellationToken: Ct)).Count);
        }

        Assert.Equal(0, (await recipes.Client.Kv.GetPrefixAsync(Name + "-di/job/", cancellationToken: Ct)).Count);
    }

    private IDistributedLockProvider Provider() =>
        new CoordinationDistributedLockProvider(Recipes, new ConcurrencyOptions { SessionTtl = TimeSpan.FromSeconds(10) });
}

[Collection(EtcdCollection.Name)]
public sealed class DistributedLockOnEtcd(EtcdTarget target) : DistributedLockContract(target);

[Collection(CoordinationCollection.Name)]
public sealed class DistributedLockOnCoordination(CoordinationTarget target) : DistributedLockContract(target);
