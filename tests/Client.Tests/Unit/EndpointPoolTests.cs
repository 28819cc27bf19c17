using Coordination.Client.Transport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Client.Tests.Unit;

/// <summary>Endpoint choice without a network: channels are created but never connect.</summary>
public sealed class EndpointPoolTests
{
    private static readonly string[] Three = ["http://10.0.0.1:2379", "http://10.0.0.2:2379", "10.0.0.3:2379"];

    [Fact]
    public void Round_robin_spreads_calls_and_skips_an_endpoint_in_cooldown_until_it_ends()
    {
        var time = new FakeTimeProvider();
        using var pool = Pool(EndpointSelection.RoundRobin, time);

        Assert.Equal(["http://10.0.0.1:2379", "http://10.0.0.2:2379", "http://10.0.0.3:2379", "http://10.0.0.1:2379"], Picks(pool, 4));

        pool.ReportTransportFailure(pool.Find("http://10.0.0.2:2379")!);
        Assert.DoesNotContain("http://10.0.0.2:2379", Picks(pool, 6));

        time.Advance(TimeSpan.FromSeconds(3));
        Assert.Contains("http://10.0.0.2:2379", Picks(pool, 3));
    }

    [Fact]
    public void Pinned_sticks_to_one_endpoint_until_it_fails()
    {
        var time = new FakeTimeProvider();
        using var pool = Pool(EndpointSelection.Pinned, time);

        var first = Picks(pool, 5).Distinct().Single();
        pool.ReportTransportFailure(pool.Find(first)!);
        var second = Picks(pool, 5).Distinct().Single();

        Assert.Equal("http://10.0.0.1:2379", first);
        Assert.NotEqual(first, second);
        Assert.Equal(second, pool.Current.Address);
    }

    [Fact]
    public void With_every_endpoint_in_cooldown_the_one_that_recovers_first_is_tried()
    {
        var time = new FakeTimeProvider();
        using var pool = Pool(EndpointSelection.RoundRobin, time);
        pool.ReportTransportFailure(pool.Find("http://10.0.0.3:2379")!);
        time.Advance(TimeSpan.FromSeconds(1));
        pool.ReportTransportFailure(pool.Find("http://10.0.0.1:2379")!);
        pool.ReportTransportFailure(pool.Find("http://10.0.0.2:2379")!);

        Assert.Equal("http://10.0.0.3:2379", pool.Pick().Address);
    }

    [Fact]
    public void Replacing_the_list_keeps_known_channels_and_drops_the_others()
    {
        using var pool = Pool(EndpointSelection.RoundRobin, new FakeTimeProvider());
        var kept = pool.Find("http://10.0.0.2:2379");

        pool.Replace(["http://10.0.0.2:2379", "http://10.0.0.9:2379"]);

        Assert.Equal(["http://10.0.0.2:2379", "http://10.0.0.9:2379"], pool.Addresses);
        Assert.Same(kept, pool.Find("http://10.0.0.2:2379"));
        Assert.Null(pool.Find("http://10.0.0.1:2379"));
    }

    private static EndpointPool Pool(EndpointSelection selection, TimeProvider time)
    {
        var options = new CoordinationClientOptions
        {
            Endpoints = [.. Three],
            EndpointSelection = selection,
            EndpointCooldown = TimeSpan.FromSeconds(3),
            TimeProvider = time,
        };
        return new EndpointPool(new ChannelFactory(options, NullLoggerFactory.Instance), options, NullLogger.Instance);
    }

    private static List<string> Picks(EndpointPool pool, int count) => [.. Enumerable.Range(0, count).Select(_ => pool.Pick().Address)];
}
