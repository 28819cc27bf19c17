using Coordination.Client.Tests.Fixtures;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Client.Tests.Unit;

/// <summary>Renewals against a real etcd, with the client's scheduling on a fake clock: a renewal goes
/// out a third of the TTL after the last answer, not earlier.</summary>
[Collection(EtcdCollection.Name)]
public sealed class KeepAliveCadenceTests(EtcdTarget etcd)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_lease_is_renewed_a_third_of_its_ttl_after_the_last_answer()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var client = CoordinationClient.Create(new CoordinationClientOptions { Endpoints = [.. etcd.Endpoints], TimeProvider = time });
        await using var lease = await client.Lease.GrantAndKeepAliveAsync(30, Ct);
        var t0 = time.GetUtcNow();

        // The first renewal is sent at once; its answer (fake clock still at t0) sets the deadline to t0 + 30 s.
        await Task.Delay(500, Ct);
        Assert.Equal(t0 + TimeSpan.FromSeconds(30), lease.Deadline);

        await AdvanceAsync(time, TimeSpan.FromSeconds(9.75));
        await Task.Delay(300, Ct);
        Assert.Equal(t0 + TimeSpan.FromSeconds(30), lease.Deadline); // no renewal before TTL/3

        await AdvanceAsync(time, TimeSpan.FromSeconds(0.25)); // t0 + 10 s: due
        await WaitUntilAsync(() => lease.Deadline > t0 + TimeSpan.FromSeconds(30));
        Assert.Equal(t0 + TimeSpan.FromSeconds(40), lease.Deadline);
        Assert.False(lease.LeaseLost.IsCancellationRequested);
    }

    private static async Task AdvanceAsync(FakeTimeProvider time, TimeSpan by)
    {
        for (var step = TimeSpan.Zero; step < by; step += TimeSpan.FromMilliseconds(250))
        {
            time.Advance(TimeSpan.FromMilliseconds(250));
            await Task.Delay(10, Ct);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(25, Ct);
        }

        Assert.True(condition());
    }
}
