using Coordination.Server.Node;

namespace Coordination.Server.Tests.Node;

/// <summary>The node loop's inbox: many writers, one reader that waits for work.</summary>
public sealed class NodeInboxTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public void Items_come_out_in_the_order_they_went_in_and_a_tick_is_null()
    {
        var inbox = new NodeInbox();
        Assert.True(inbox.TryWrite("a"));
        Assert.True(inbox.TryWrite(null));
        Assert.True(inbox.TryWrite("b"));

        Assert.True(inbox.WaitToRead(CancellationToken.None));
        var read = new List<object?>();
        while (inbox.TryRead(out var item)) read.Add(item);

        Assert.Equal(new object?[] { "a", null, "b" }, read);
    }

    [Fact]
    public async Task A_waiting_reader_wakes_when_another_thread_writes()
    {
        var inbox = new NodeInbox();
        using var reading = new ManualResetEventSlim();
        var reader = Task.Factory.StartNew(() =>
        {
            reading.Set();
            return inbox.WaitToRead(CancellationToken.None) && inbox.TryRead(out var item) ? item : "nothing";
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(reading.Wait(Patience, TestContext.Current.CancellationToken));

        Assert.True(inbox.TryWrite("proposal"));

        Assert.Equal("proposal", await reader.WaitAsync(Patience, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Writers_on_many_threads_lose_nothing_while_the_reader_drains()
    {
        const int writers = 4, perWriter = 20_000;
        var inbox = new NodeInbox();
        var reader = Task.Factory.StartNew(() =>
        {
            var seen = 0;
            while (seen < writers * perWriter && inbox.WaitToRead(CancellationToken.None))
            {
                while (inbox.TryRead(out _)) seen++;
            }
            return seen;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < perWriter; i++) Assert.True(inbox.TryWrite(i));
        })));

        Assert.Equal(writers * perWriter, await reader.WaitAsync(Patience, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Completing_refuses_new_items_and_ends_a_waiting_reader_once_drained()
    {
        var inbox = new NodeInbox();
        Assert.True(inbox.TryWrite("last"));
        inbox.Complete();

        Assert.False(inbox.TryWrite("too late"));
        Assert.True(inbox.WaitToRead(CancellationToken.None));
        Assert.True(inbox.TryRead(out var item));
        Assert.Equal("last", item);
        var waiting = Task.Factory.StartNew(() => inbox.WaitToRead(CancellationToken.None), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.False(await waiting.WaitAsync(Patience, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Cancelling_stops_a_reader_waiting_on_an_empty_inbox()
    {
        var inbox = new NodeInbox();
        using var stop = new CancellationTokenSource();
        var waiting = Task.Factory.StartNew(() => inbox.WaitToRead(stop.Token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Patience, TestContext.Current.CancellationToken));
    }
}
