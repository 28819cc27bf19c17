using Coordination.Concurrency.Sessions;
using Coordination.Concurrency.Tests.Fixtures;

namespace Coordination.Concurrency.Tests.Contract;

public abstract class SessionContract(ConcurrencyTarget target) : TargetTestBase(target)
{
    [Fact]
    public async Task The_default_ttl_is_sixty_seconds()
    {
        await using var session = await Recipes.CreateSessionAsync(cancellationToken: Ct);

        var ttl = await Client.Lease.TimeToLiveAsync(session.LeaseId, cancellationToken: Ct);
        Assert.Equal(TimeSpan.FromSeconds(60), session.Ttl);
        Assert.Equal(60, ttl.GrantedTtlSeconds);
    }

    [Fact]
    public async Task A_session_keeps_its_lease_alive_past_its_ttl()
    {
        await using var session = await Recipes.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(2) }, Ct);

        await Task.Delay(TimeSpan.FromSeconds(4.5), Ct);

        Assert.False(session.IsLost);
        Assert.InRange((await Client.Lease.TimeToLiveAsync(session.LeaseId, cancellationToken: Ct)).TtlSeconds, 1, 2);
    }

    [Fact]
    public async Task Close_revokes_the_lease_and_fires_the_lost_token()
    {
        var session = await Recipes.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(30) }, Ct);
        await Client.Kv.PutAsync(Name + "/k", "v", new Client.Kv.PutOptions { Lease = session.LeaseId }, Ct);

        await session.CloseAsync(Ct);

        Assert.True(session.SessionLost.IsCancellationRequested);
        Assert.Equal(-1, (await Client.Lease.TimeToLiveAsync(session.LeaseId, cancellationToken: Ct)).TtlSeconds);
        Assert.Null(await Client.Kv.GetAsync(Name + "/k", cancellationToken: Ct));
        await session.DisposeAsync(); // a second close is harmless
    }

    [Fact]
    public async Task Revoking_the_lease_elsewhere_fires_the_lost_token()
    {
        await using var session = await Recipes.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(3) }, Ct);

        await NewClient().Lease.RevokeAsync(session.LeaseId, Ct);

        await WaitLostAsync(session.SessionLost, TimeSpan.FromSeconds(5));
        Assert.True(session.IsLost);
    }

    [Fact]
    public async Task A_stopped_keep_alive_fires_the_lost_token_about_the_ttl_and_the_server_expires_the_lease()
    {
        await using var session = await Recipes.CreateSessionAsync(new SessionOptions { Ttl = TimeSpan.FromSeconds(2) }, Ct);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        await ((CoordinationSession)session).AbandonKeepAliveAsync();

        await WaitLostAsync(session.SessionLost, TimeSpan.FromSeconds(4));
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(4));
        // The server's deadline is at or before ours (ours is measured from the receipt of the last
        // renewal); its expiry check runs periodically, so the revocation itself may trail a little.
        var remaining = await Client.Lease.TimeToLiveAsync(session.LeaseId, cancellationToken: Ct);
        Assert.InRange(remaining.TtlSeconds, -1, 0);
        for (var i = 0; i < 40 && remaining.TtlSeconds != -1; i++)
        {
            await Task.Delay(50, Ct);
            remaining = await Client.Lease.TimeToLiveAsync(session.LeaseId, cancellationToken: Ct);
        }

        Assert.Equal(-1, remaining.TtlSeconds);
    }

    [Fact]
    public async Task An_existing_lease_can_be_adopted_and_is_kept_alive_and_revoked_on_close()
    {
        var lease = await Client.Lease.GrantAsync(2, cancellationToken: Ct);
        var session = await Recipes.CreateSessionAsync(new SessionOptions { LeaseId = lease.Id }, Ct);

        await Task.Delay(TimeSpan.FromSeconds(3.5), Ct);
        Assert.Equal(lease.Id, session.LeaseId);
        Assert.False(session.IsLost);
        Assert.True((await Client.Lease.TimeToLiveAsync(lease.Id, cancellationToken: Ct)).TtlSeconds > 0);

        await session.CloseAsync(Ct);
        Assert.Equal(-1, (await Client.Lease.TimeToLiveAsync(lease.Id, cancellationToken: Ct)).TtlSeconds);
    }

    [Fact]
    public async Task Adopting_a_missing_lease_is_session_expired()
    {
        var error = await Assert.ThrowsAsync<SessionExpiredException>(() => Recipes.CreateSessionAsync(new SessionOptions { LeaseId = 0x7eadbeef }, Ct));
        Assert.Equal(0x7eadbeef, error.LeaseId);
    }

    internal static async Task WaitLostAsync(CancellationToken lost, TimeSpan within)
    {
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lost.Register(() => fired.TrySetResult());
        await fired.Task.WaitAsync(within, Ct);
    }
}

[Collection(EtcdCollection.Name)]
public sealed class SessionOnEtcd(EtcdTarget target) : SessionContract(target);

[Collection(CoordinationCollection.Name)]
public sealed class SessionOnCoordination(CoordinationTarget target) : SessionContract(target);
