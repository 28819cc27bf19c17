using Coordination.Server.Errors;
using Coordination.Server.Mvcc;
using Coordination.Server.Watch;
using Etcdserverpb;
using Mvccpb;
using static Coordination.Server.Tests.Mvcc.Bytes;
using static Coordination.Server.Tests.Watch.WatchTestKit;

namespace Coordination.Server.Tests.Watch;

public class WatchHubTests
{
    private static readonly WatchCreateRequest.Types.FilterType NoPut = WatchCreateRequest.Types.FilterType.Noput;
    private static readonly WatchCreateRequest.Types.FilterType NoDelete = WatchCreateRequest.Types.FilterType.Nodelete;

    [Fact]
    public async Task Create_answers_created_with_id_0_and_the_current_revision_then_streams_events()
    {
        var kit = new WatchTestKit();
        kit.Put("a", "0");
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create("a"));
        WatchResponse created = await NextAsync(stream);
        Assert.True(created.Created);
        Assert.False(created.Canceled);
        Assert.Equal(0, created.WatchId);
        Assert.Equal(2, created.Header.Revision);

        kit.Put("b", "ignored");
        long revision = kit.Put("a", "1");
        WatchResponse events = await NextAsync(stream);
        Assert.Equal(0, events.WatchId);
        Assert.Equal(revision, events.Header.Revision);
        Assert.Equal(["PUT a=1@4"], events.Events.Select(EventText.Of));
        Assert.Equal(1, kit.Hub.SyncedCount);
    }

    [Fact]
    public async Task Automatic_ids_count_from_0_and_skip_ids_the_client_chose()
    {
        var kit = new WatchTestKit();
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create("a", id: 1));
        stream.Create(Create("a"));
        stream.Create(Create("a"));
        stream.Create(Create("a", id: 7));
        var ids = new List<long>();
        for (int i = 0; i < 4; i++) ids.Add((await NextAsync(stream)).WatchId);
        Assert.Equal([1L, 0L, 2L, 7L], ids);
    }

    [Fact]
    public async Task A_duplicate_client_id_is_refused_with_etcds_reason_and_id_minus_1()
    {
        var kit = new WatchTestKit();
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create("a", id: 5));
        await NextAsync(stream);
        stream.Create(Create("b", id: 5));
        WatchResponse refused = await NextAsync(stream);
        Assert.Equal((-1L, true, true, "mvcc: duplicate watch ID provided on the WatchStream"),
            (refused.WatchId, refused.Created, refused.Canceled, refused.CancelReason));
        Assert.Equal(1, kit.Hub.SyncedCount);
    }

    [Theory]
    [InlineData("b", "a")]
    [InlineData("b", "b")]
    public async Task A_range_end_at_or_below_the_key_is_an_empty_range(string key, string end)
    {
        var kit = new WatchTestKit();
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create(key, end));
        WatchResponse refused = await NextAsync(stream);
        Assert.Equal((-1L, true, true, "mvcc: watcher range is empty"), (refused.WatchId, refused.Created, refused.Canceled, refused.CancelReason));
        Assert.Equal(0, kit.Hub.SyncedCount);
    }

    [Fact]
    public async Task Empty_key_with_range_end_zero_watches_everything()
    {
        var kit = new WatchTestKit();
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(new WatchCreateRequest { RangeEnd = Google.Protobuf.ByteString.CopyFrom(0) });
        await NextAsync(stream);
        kit.Put("x", "1");
        kit.Put("\u0001", "2");
        Assert.Equal(["PUT x=1@2", "PUT \u0001=2@3"], (await ReadEventsAsync(stream, 2)).SelectMany(r => r.Events).Select(EventText.Of));
    }

    [Fact]
    public async Task Cancel_of_a_known_id_is_acknowledged_and_of_an_unknown_id_gets_no_response()
    {
        var kit = new WatchTestKit();
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create("a"));
        await NextAsync(stream);
        stream.Cancel(42);
        stream.Cancel(0);
        WatchResponse canceled = await NextAsync(stream);
        Assert.Equal((0L, true, false), (canceled.WatchId, canceled.Canceled, canceled.Created));
        Assert.Equal(0, kit.Hub.SyncedCount);
        kit.Put("a", "after cancel");
        await AssertNothingQueuedAsync(stream);
    }

    [Fact]
    public async Task Filters_drop_puts_or_deletes()
    {
        var kit = new WatchTestKit();
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create("a", filters: NoPut));
        stream.Create(Create("a", filters: NoDelete));
        await NextAsync(stream);
        await NextAsync(stream);
        kit.Put("a", "1");
        kit.Delete("a");
        List<WatchResponse> responses = await ReadEventsAsync(stream, 2);
        Assert.Equal(["1:PUT a=1@2", "0:DEL a@3"], responses.Select(r => $"{r.WatchId}:{EventText.Of(r.Events.Single())}"));
    }

    [Fact]
    public async Task Prev_kv_is_attached_to_updates_and_deletes_but_not_to_creations()
    {
        var kit = new WatchTestKit();
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create("a", prevKv: true));
        await NextAsync(stream);
        kit.Put("a", "1");
        kit.Put("a", "2");
        kit.Delete("a");
        kit.Put("a", "3");
        List<WatchResponse> responses = await ReadEventsAsync(stream, 4);
        Assert.Equal(["PUT a=1@2", "PUT a=2@3 prev=1@2", "DEL a@4 prev=2@3", "PUT a=3@5"], responses.SelectMany(r => r.Events).Select(EventText.Of));
    }

    [Fact]
    public async Task All_events_of_one_revision_arrive_in_one_response()
    {
        var kit = new WatchTestKit();
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create("k", "l"));
        await NextAsync(stream);
        kit.PutMany(("k1", "a"), ("k2", "b"), ("k3", "c"));
        kit.Delete("k1", "k3");
        WatchResponse puts = await NextAsync(stream);
        WatchResponse deletes = await NextAsync(stream);
        Assert.Equal(["PUT k1=a@2", "PUT k2=b@2", "PUT k3=c@2"], puts.Events.Select(EventText.Of));
        Assert.Equal(["DEL k1@3", "DEL k2@3"], deletes.Events.Select(EventText.Of));
    }

    [Fact]
    public async Task A_past_start_revision_replays_history_then_goes_live()
    {
        var kit = new WatchTestKit();
        for (int i = 0; i < 10; i++) kit.Put("a", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create("a", start: 5, prevKv: true));
        Assert.True((await NextAsync(stream)).Created);
        List<WatchResponse> replay = await ReadEventsAsync(stream, 7);
        Assert.Equal(Enumerable.Range(5, 7).Select(r => (long)r), replay.SelectMany(r => r.Events).Select(e => e.Kv.ModRevision));
        Assert.Equal(4, replay.SelectMany(r => r.Events).First().PrevKv.ModRevision);
        await WaitUntilAsync(() => kit.Hub.SyncedCount == 1);
        kit.Put("a", "live");
        Assert.Equal(["PUT a=live@12 prev=9@11"], (await ReadEventsAsync(stream, 1)).SelectMany(r => r.Events).Select(EventText.Of));
    }

    [Fact]
    public async Task Catch_up_comes_in_bounded_batches_of_whole_revisions()
    {
        var kit = new WatchTestKit(new WatchHubOptions { CatchUpMaxRevisions = 3, CatchUpMaxEvents = 2 });
        for (int i = 0; i < 6; i++) kit.PutMany(($"k{i}a", "x"), ($"k{i}b", "y"), ($"k{i}c", "z"));
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create("k", "l", start: 1));
        await NextAsync(stream);
        List<WatchResponse> replay = await ReadEventsAsync(stream, 18);
        Assert.Equal(6, replay.Count);
        Assert.All(replay, r => Assert.Equal(3, r.Events.Count));
        Assert.All(replay, r => Assert.Single(r.Events.Select(e => e.Kv.ModRevision).Distinct()));
    }

    [Fact]
    public async Task A_future_start_revision_waits_for_it()
    {
        var kit = new WatchTestKit();
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create("a", start: 4));
        await NextAsync(stream);
        kit.Put("a", "2");
        kit.Put("a", "3");
        kit.Put("a", "4");
        Assert.Equal(["PUT a=4@4"], (await ReadEventsAsync(stream, 1)).SelectMany(r => r.Events).Select(EventText.Of));
    }

    [Fact]
    public async Task A_slow_consumer_becomes_a_victim_and_catches_up_without_gaps_or_duplicates()
    {
        var kit = new WatchTestKit(new WatchHubOptions { StreamBufferResponses = 2 });
        using WatchStream slow = kit.Hub.OpenStream();
        using WatchStream fast = kit.Hub.OpenStream();
        slow.Create(Create("a", prevKv: true));
        fast.Create(Create("a"));
        await NextAsync(slow);
        await NextAsync(fast);

        var fastSeen = new List<long>();
        for (int i = 0; i < 50; i++)
        {
            long revision = kit.Put("a", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            fastSeen.AddRange((await ReadEventsAsync(fast, 1)).SelectMany(r => r.Events).Select(e => e.Kv.ModRevision));
            Assert.Equal(revision, fastSeen[^1]);
        }

        // Writes went on while the slow stream held 2 responses: its watcher fell out of sync.
        Assert.Equal(1, kit.Hub.UnsyncedCount);
        List<Event> slowSeen = (await ReadEventsAsync(slow, 50)).SelectMany(r => r.Events).ToList();
        Assert.Equal(Enumerable.Range(2, 50).Select(r => (long)r), slowSeen.Select(e => e.Kv.ModRevision));
        Assert.All(slowSeen.Skip(1), e => Assert.Equal(e.Kv.ModRevision - 1, e.PrevKv.ModRevision));
        await WaitUntilAsync(() => kit.Hub.SyncedCount == 2);
        kit.Put("a", "live");
        Assert.Equal(52, (await ReadEventsAsync(slow, 1))[0].Events[0].Kv.ModRevision);
    }

    [Fact]
    public async Task A_start_revision_below_the_compact_revision_is_created_then_canceled_with_compact_revision()
    {
        var kit = new WatchTestKit();
        for (int i = 0; i < 5; i++) kit.Put("a", "v");
        kit.Compact(5);
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create("a", start: 3));
        WatchResponse created = await NextAsync(stream);
        WatchResponse canceled = await NextAsync(stream);
        Assert.Equal((0L, true), (created.WatchId, created.Created));
        Assert.Equal((0L, true, 5L, 0L, ""), (canceled.WatchId, canceled.Canceled, canceled.CompactRevision, canceled.Header.Revision, canceled.CancelReason));
        Assert.Equal(0, kit.Hub.SyncedCount + kit.Hub.UnsyncedCount);
        // etcd keeps the id until the client cancels it.
        stream.Cancel(0);
        Assert.True((await NextAsync(stream)).Canceled);
    }

    [Fact]
    public async Task A_start_revision_equal_to_the_compact_revision_is_allowed_as_in_etcd()
    {
        var kit = new WatchTestKit();
        for (int i = 0; i < 5; i++) kit.Put("a", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        kit.Compact(5);
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create("a", start: 5));
        await NextAsync(stream);
        Assert.Equal(["PUT a=3@5", "PUT a=4@6"], (await ReadEventsAsync(stream, 2)).SelectMany(r => r.Events).Select(EventText.Of));
    }

    [Fact]
    public async Task A_victim_whose_next_revision_gets_compacted_is_canceled_with_the_compact_revision()
    {
        var kit = new WatchTestKit(new WatchHubOptions { StreamBufferResponses = 1 });
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create("a"));
        await NextAsync(stream);
        for (int i = 0; i < 10; i++) kit.Put("a", "v");
        Assert.Equal(1, kit.Hub.UnsyncedCount);
        kit.Compact(8);
        WatchResponse first = await NextAsync(stream);
        Assert.Equal([2L], first.Events.Select(e => e.Kv.ModRevision));
        WatchResponse canceled = await NextAsync(stream);
        Assert.Equal((true, 8L), (canceled.Canceled, canceled.CompactRevision));
    }

    [Fact]
    public async Task A_progress_request_answers_with_id_minus_1_at_the_current_revision_when_all_are_synced()
    {
        var kit = new WatchTestKit();
        using WatchStream stream = kit.Hub.OpenStream();
        stream.RequestProgress();
        WatchResponse empty = await NextAsync(stream);
        Assert.Equal((-1L, 1L), (empty.WatchId, empty.Header.Revision));
        stream.Create(Create("a"));
        await NextAsync(stream);
        kit.Put("b", "1");
        stream.RequestProgress();
        WatchResponse progress = await NextAsync(stream);
        Assert.Equal((-1L, 2L, false, false), (progress.WatchId, progress.Header.Revision, progress.Created, progress.Canceled));
        Assert.Empty(progress.Events);
    }

    [Fact]
    public async Task A_progress_request_waits_while_a_watcher_catches_up_and_never_overtakes_its_events()
    {
        var kit = new WatchTestKit(new WatchHubOptions { StreamBufferResponses = 1 });
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create("a"));
        await NextAsync(stream);
        for (int i = 0; i < 5; i++) kit.Put("a", "v");
        Assert.Equal(1, kit.Hub.UnsyncedCount);
        stream.RequestProgress();
        var seen = new List<long>();
        WatchResponse response;
        while ((response = await NextAsync(stream)).WatchId != -1)
        {
            seen.AddRange(response.Events.Select(e => e.Kv.ModRevision));
        }

        Assert.Equal([2L, 3L, 4L, 5L, 6L], seen);
        Assert.Equal(6, response.Header.Revision);
    }

    [Fact]
    public async Task Progress_notify_reaches_quiet_synced_watchers_each_interval_and_an_event_skips_one_tick()
    {
        var kit = new WatchTestKit(new WatchHubOptions { ProgressNotifyInterval = TimeSpan.FromSeconds(5) });
        using WatchStream stream = kit.Hub.OpenStream();
        stream.Create(Create("a", progress: true));
        stream.Create(Create("b"));
        await NextAsync(stream);
        await NextAsync(stream);
        kit.Time.Advance(TimeSpan.FromSeconds(5));
        WatchResponse tick = await NextAsync(stream);
        Assert.Equal((0L, 1L), (tick.WatchId, tick.Header.Revision));
        Assert.Empty(tick.Events);

        kit.Put("a", "1");
        await ReadEventsAsync(stream, 1);
        kit.Time.Advance(TimeSpan.FromSeconds(5));
        await AssertNothingQueuedAsync(stream);
        kit.Time.Advance(TimeSpan.FromSeconds(5));
        WatchResponse next = await NextAsync(stream);
        Assert.Equal((0L, 2L), (next.WatchId, next.Header.Revision));
    }

    [Fact]
    public async Task Closing_a_stream_removes_thousands_of_watchers()
    {
        var kit = new WatchTestKit();
        WatchStream stream = kit.Hub.OpenStream();
        for (int i = 0; i < 5000; i++) stream.Create(Create($"k{i}", start: i % 2 == 0 ? 0 : 1));
        await WaitUntilAsync(() => kit.Hub.SyncedCount == 5000);
        stream.Dispose();
        Assert.Equal(0, kit.Hub.SyncedCount + kit.Hub.UnsyncedCount);
        kit.Put("k1", "after close");
    }

    [Fact]
    public async Task The_in_process_watch_yields_one_list_per_revision_from_history_then_live()
    {
        var kit = new WatchTestKit(new WatchHubOptions { CatchUpMaxRevisions = 100 });
        kit.PutMany(("p/a", "1"), ("p/b", "1"));
        kit.Put("p/a", "2");
        IKeyWatcher watcher = kit.Hub;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using IAsyncEnumerator<IReadOnlyList<Event>> events = watcher.WatchAsync(KeyRange.FromRequest(B("p/"), B("p0")), 2, prevKv: true, cts.Token).GetAsyncEnumerator(cts.Token);
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(["PUT p/a=1@2", "PUT p/b=1@2"], events.Current.Select(EventText.Of));
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(["PUT p/a=2@3 prev=1@2"], events.Current.Select(EventText.Of));
        kit.Delete("p/b");
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(["DEL p/b@4 prev=1@2"], events.Current.Select(EventText.Of));
    }

    [Fact]
    public async Task The_in_process_watch_refuses_a_compacted_start()
    {
        var kit = new WatchTestKit();
        kit.Put("a", "1");
        kit.Put("a", "2");
        kit.Compact(3);
        IKeyWatcher watcher = kit.Hub;
        var error = await Assert.ThrowsAsync<EtcdException>(async () =>
        {
            await foreach (var _ in watcher.WatchAsync(KeyRange.Single(B("a")), 3, false, CancellationToken.None)) { }
        });
        Assert.Equal(EtcdErrors.Compacted, error.Error);
    }

    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in 10 s");
            await Task.Delay(5);
        }
    }
}
