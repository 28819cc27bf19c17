using Coordination.Concurrency.Tests.Fixtures;

namespace Coordination.Concurrency.Tests.Interop;

/// <summary>
/// Our mutex and election against etcd's own Go implementation on the same names: <c>etcdctl lock</c>
/// and <c>etcdctl elect</c> run as child processes (etcdctl 3.4 uses etcd's <c>concurrency</c> package).
/// </summary>
public abstract class EtcdctlInteropContract(ConcurrencyTarget target) : TargetTestBase(target)
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1.5);
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Etcdctl_lock_waits_while_our_mutex_holds_and_gets_it_when_we_release()
    {
        await using var session = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        var ours = await Recipes.CreateMutex(session, Name).LockAsync(Ct);

        await using var etcdctl = EtcdctlProcess.Start(Target.Endpoint, "lock", Name);
        Assert.Null(await etcdctl.ReadLineAsync(Quiet, Ct)); // still waiting: it prints its key once it holds the lock

        await ours.ReleaseAsync(Ct);

        var theirKey = await etcdctl.ReadLineAsync(Soon, Ct);
        Assert.NotNull(theirKey);
        Assert.StartsWith(Name + "/", theirKey);
        var stored = await Client.Kv.GetAsync(theirKey, cancellationToken: Ct);
        Assert.NotNull(stored);
        Assert.True(stored.CreateRevision > ours.FencingToken);
        await etcdctl.TerminateAsync(Ct);
    }

    [Fact]
    public async Task Our_mutex_waits_while_etcdctl_lock_holds_and_gets_it_when_etcdctl_unlocks()
    {
        await using var etcdctl = EtcdctlProcess.Start(Target.Endpoint, "lock", Name);
        var theirKey = await etcdctl.ReadLineAsync(Soon, Ct);
        Assert.NotNull(theirKey);
        await using var session = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        var mutex = Recipes.CreateMutex(session, Name);

        Assert.Null(await mutex.TryLockAsync(TimeSpan.FromMilliseconds(500), Ct));
        var waiting = mutex.LockAsync(Ct);
        await Task.WhenAny(waiting, Task.Delay(Quiet, Ct));
        Assert.False(waiting.IsCompleted);

        await etcdctl.TerminateAsync(Ct); // SIGINT: etcdctl unlocks and closes its session

        await using var ours = await waiting.WaitAsync(Soon, Ct);
        Assert.Null(await Client.Kv.GetAsync(theirKey, cancellationToken: Ct));
        Assert.True(await ours.IsOwnerAsync(Ct));
    }

    [Fact]
    public async Task Etcdctl_lock_with_a_command_excludes_our_mutex_while_the_command_runs()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"concurrency-{Guid.NewGuid():N}");
        await using var etcdctl = EtcdctlProcess.Start(Target.Endpoint, "lock", Name, "--", "sh", "-c", $"echo \"$ETCD_LOCK_KEY\" > {marker}; sleep 2; rm {marker}");
        for (var i = 0; i < 150 && !File.Exists(marker); i++)
        {
            await Task.Delay(100, Ct);
        }

        Assert.True(File.Exists(marker), $"etcdctl did not run its command under the lock: {etcdctl.Stderr}");
        var theirKey = (await File.ReadAllTextAsync(marker, Ct)).Trim();
        Assert.StartsWith(Name + "/", theirKey);
        Assert.NotNull(await Client.Kv.GetAsync(theirKey, cancellationToken: Ct));
        await using var session = await Recipes.CreateSessionAsync(cancellationToken: Ct);

        await using var ours = await Recipes.CreateMutex(session, Name).LockAsync(Ct).WaitAsync(Soon, Ct);

        Assert.False(File.Exists(marker)); // granted only after the command finished and etcdctl unlocked
        Assert.Null(await Client.Kv.GetAsync(theirKey, cancellationToken: Ct));
    }

    [Fact]
    public async Task Etcdctl_elect_sees_our_leader_and_takes_over_when_we_resign()
    {
        await using var session = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        var ours = await Recipes.CreateElection(session, Name).CampaignAsync("dotnet-leader", Ct);
        await using var observer = EtcdctlProcess.Start(Target.Endpoint, "elect", "-l", Name);
        Assert.Equal(ours.Key, await observer.ReadLineAsync(Soon, Ct));
        Assert.Equal("dotnet-leader", await observer.ReadLineAsync(Soon, Ct));

        await using var candidate = EtcdctlProcess.Start(Target.Endpoint, "elect", Name, "go-candidate");
        Assert.Null(await candidate.ReadLineAsync(Quiet, Ct)); // not leader while we lead

        await ours.ResignAsync(Ct);

        var theirKey = await candidate.ReadLineAsync(Soon, Ct);
        Assert.NotNull(theirKey);
        Assert.Equal("go-candidate", await candidate.ReadLineAsync(Soon, Ct));
        Assert.Equal(theirKey, (await Recipes.ObserveElection(Name).GetLeaderAsync(Ct))?.Key);
        Assert.Equal(theirKey, await observer.ReadLineAsync(Soon, Ct));
        Assert.Equal("go-candidate", await observer.ReadLineAsync(Soon, Ct));
        await candidate.TerminateAsync(Ct);
    }

    [Fact]
    public async Task Our_election_sees_the_etcdctl_leader_and_takes_over_when_it_resigns()
    {
        await using var candidate = EtcdctlProcess.Start(Target.Endpoint, "elect", Name, "go-leader");
        var theirKey = await candidate.ReadLineAsync(Soon, Ct);
        Assert.NotNull(theirKey);
        Assert.Equal("go-leader", await candidate.ReadLineAsync(Soon, Ct));
        await using var session = await Recipes.CreateSessionAsync(cancellationToken: Ct);
        var election = Recipes.CreateElection(session, Name);

        var leader = await election.GetLeaderAsync(Ct);
        Assert.Equal(theirKey, leader?.Key);
        Assert.Equal("go-leader", leader?.Value);
        var campaign = election.CampaignAsync("dotnet-candidate", Ct);
        await Task.WhenAny(campaign, Task.Delay(Quiet, Ct));
        Assert.False(campaign.IsCompleted);

        await candidate.TerminateAsync(Ct); // SIGINT: etcdctl resigns

        await using var ours = await campaign.WaitAsync(Soon, Ct);
        Assert.Equal("dotnet-candidate", (await election.GetLeaderAsync(Ct))?.Value);
    }
}

[Collection(EtcdCollection.Name)]
public sealed class EtcdctlInteropOnEtcd(EtcdTarget target) : EtcdctlInteropContract(target);

[Collection(CoordinationCollection.Name)]
public sealed class EtcdctlInteropOnCoordination(CoordinationTarget target) : EtcdctlInteropContract(target);
