using Coordination.Client.Kv;
using Coordination.Client.Tests.Fixtures;
using Coordination.Client.Watch;

namespace Coordination.Client.Tests.Contract;

public abstract class WatchContract(ContractTarget target) : ContractBase(target, ContractGroup.Watch)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Events_of_a_key_arrive_in_order_with_their_types_and_revisions()
    {
        await using var watch = await Client.Watch.WatchAsync(Key("w"), cancellationToken: Ct);
        var p1 = await Client.Kv.PutAsync(Key("w"), "1", cancellationToken: Ct);
        var p2 = await Client.Kv.PutAsync(Key("w"), "2", cancellationToken: Ct);
        var d = await Client.Kv.DeleteAsync(Key("w"), cancellationToken: Ct);

        var events = await TakeEventsAsync(watch, 3);

        Assert.Equal([WatchEventType.Put, WatchEventType.Put, WatchEventType.Delete], events.Select(e => e.Type));
        Assert.Equal([p1.Header.Revision, p2.Header.Revision, d.Header.Revision], events.Select(e => e.Kv.ModRevision));
        Assert.Equal("2", events[1].Kv.ValueString);
        Assert.True(watch.CreatedRevision > 0 && watch.CreatedRevision < p1.Header.Revision);
    }

    [Fact]
    public async Task A_watch_from_a_past_revision_replays_history_then_goes_live()
    {
        var first = await Client.Kv.PutAsync(Key("h/a"), "1", cancellationToken: Ct);
        await Client.Kv.PutAsync(Key("h/b"), "2", cancellationToken: Ct);
        await Client.Kv.PutAsync(Key("other"), "not watched", cancellationToken: Ct);

        await using var watch = await Client.Watch.WatchPrefixAsync(Key("h/"), new WatchOptions { StartRevision = first.Header.Revision }, Ct);
        await Client.Kv.PutAsync(Key("h/c"), "3", cancellationToken: Ct);

        var events = await TakeEventsAsync(watch, 3);
        Assert.Equal([Key("h/a"), Key("h/b"), Key("h/c")], events.Select(e => e.Kv.KeyString));
    }

    [Fact]
    public async Task A_compacted_start_revision_ends_the_watch_with_the_compact_revision()
    {
        var old = await Client.Kv.PutAsync(Key("c"), "1", cancellationToken: Ct);
        var now = await Client.Kv.PutAsync(Key("c"), "2", cancellationToken: Ct);
        await Client.Kv.CompactAsync(now.Header.Revision, cancellationToken: Ct);

        var e = await Assert.ThrowsAsync<EtcdCompactedException>(async () =>
        {
            await using var watch = await Client.Watch.WatchAsync(Key("c"), new WatchOptions { StartRevision = old.Header.Revision }, Ct);
            await TakeEventsAsync(watch, 1);
        });

        Assert.Equal(now.Header.Revision, e.CompactRevision);
    }

    [Fact]
    public async Task Many_watches_share_the_stream_and_each_gets_only_its_key()
    {
        const int Count = 25;
        var watches = new List<IWatchSubscription>();
        for (var i = 0; i < Count; i++)
        {
            watches.Add(await Client.Watch.WatchAsync(Key($"m/{i}"), cancellationToken: Ct));
        }

        for (var i = 0; i < Count; i++)
        {
            await Client.Kv.PutAsync(Key($"m/{i}"), i.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken: Ct);
        }

        for (var i = 0; i < Count; i++)
        {
            var e = Assert.Single(await TakeEventsAsync(watches[i], 1));
            Assert.Equal(Key($"m/{i}"), e.Kv.KeyString);
            await watches[i].DisposeAsync();
        }
    }

    [Fact]
    public async Task PrevKv_and_filters_shape_the_events()
    {
        await Client.Kv.PutAsync(Key("f"), "before", cancellationToken: Ct);
        await using var noDelete = await Client.Watch.WatchAsync(Key("f"), new WatchOptions { PrevKv = true, NoDelete = true }, Ct);
        await using var noPut = await Client.Watch.WatchAsync(Key("f"), new WatchOptions { NoPut = true }, Ct);

        await Client.Kv.PutAsync(Key("f"), "after", cancellationToken: Ct);
        await Client.Kv.DeleteAsync(Key("f"), cancellationToken: Ct);
        await Client.Kv.PutAsync(Key("f"), "again", cancellationToken: Ct);

        var puts = await TakeEventsAsync(noDelete, 2);
        Assert.All(puts, e => Assert.Equal(WatchEventType.Put, e.Type));
        Assert.Equal("before", puts[0].PrevKv?.ValueString);
        Assert.Null(puts[1].PrevKv); // created again: no previous version
        var deletes = await TakeEventsAsync(noPut, 1);
        Assert.Equal(WatchEventType.Delete, Assert.Single(deletes).Type);
    }

    [Fact]
    public async Task A_progress_request_reaches_every_watch_with_the_current_revision()
    {
        var put = await Client.Kv.PutAsync(Key("prog"), "x", cancellationToken: Ct);
        await using var a = await Client.Watch.WatchAsync(Key("pa"), cancellationToken: Ct);
        await using var b = await Client.Watch.WatchAsync(Key("pb"), cancellationToken: Ct);

        await Client.Watch.RequestProgressAsync(Ct);

        foreach (var watch in new[] { a, b })
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(Patience);
            await using var e = watch.GetAsyncEnumerator(timeout.Token);
            Assert.True(await e.MoveNextAsync());
            Assert.True(e.Current.IsProgressNotification);
            Assert.Empty(e.Current.Events);
            Assert.True(e.Current.Revision >= put.Header.Revision);
        }
    }

    [Fact]
    public async Task After_the_connection_breaks_the_watch_resumes_with_no_gap_and_no_duplicate()
    {
        await using var proxy = new TcpProxy(new Uri(Target.Endpoints[0]).Port);
        await using var viaProxy = CoordinationClient.Create(new CoordinationClientOptions { Endpoints = [proxy.Url] });
        await using var watch = await viaProxy.Watch.WatchPrefixAsync(Key("r/"), cancellationToken: Ct);

        const int Writes = 60;
        var writer = Task.Run(async () =>
        {
            var revisions = new List<long>();
            for (var i = 0; i < Writes; i++)
            {
                revisions.Add((await Client.Kv.PutAsync(Key($"r/{i % 7}"), $"{i}", cancellationToken: Ct)).Header.Revision);
                if (i is 15 or 35)
                {
                    proxy.DropAll();
                }

                await Task.Delay(5, Ct);
            }

            return revisions;
        }, Ct);

        var events = await TakeEventsAsync(watch, Writes);
        var written = await writer;

        Assert.Equal(written, events.Select(e => e.Kv.ModRevision));
        Assert.Equal(Enumerable.Range(0, Writes).Select(i => $"{i}"), events.Select(e => e.Kv.ValueString));
        Assert.True(proxy.Connections >= 3, $"the proxy saw {proxy.Connections} connections; the drops did not force reconnects");
    }

    [Fact]
    public async Task Disposing_one_watch_leaves_the_others_running()
    {
        var stopped = await Client.Watch.WatchAsync(Key("s"), cancellationToken: Ct);
        await using var running = await Client.Watch.WatchAsync(Key("s"), cancellationToken: Ct);
        await stopped.DisposeAsync();

        await Client.Kv.PutAsync(Key("s"), "1", cancellationToken: Ct);

        Assert.Single(await TakeEventsAsync(running, 1));
        await foreach (var _ in stopped.WithCancellation(Ct))
        {
            Assert.Fail("a disposed watch delivered a batch");
        }
    }

    protected static async Task<List<WatchEvent>> TakeEventsAsync(IWatchSubscription watch, int count)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(Patience);
        var events = new List<WatchEvent>();
        await foreach (var e in watch.EventsAsync(timeout.Token))
        {
            events.Add(e);
            if (events.Count == count)
            {
                break;
            }
        }

        Assert.Equal(count, events.Count);
        return events;
    }
}

[Collection(EtcdCollection.Name)]
public sealed class WatchOnEtcd(EtcdTarget target) : WatchContract(target);

[Collection(CoordinationCollection.Name)]
public sealed class WatchOnCoordination(CoordinationTarget target) : WatchContract(target);

[Collection(ExternalCollection.Name)]
public sealed class WatchOnExternal(ExternalTarget target) : WatchContract(target);
