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

    [Fact]
    public void A_reader_that_finds_work_waiting_three_times_in_a_row_spins_on_its_next_wait()
    {
        var inbox = new NodeInbox(new SteppingClock(TimeSpan.FromMilliseconds(0.1)));
        Assert.False(inbox.Spins);

        for (var i = 0; i < NodeInbox.ShortWaitsToSpin; i++)
        {
            Assert.False(inbox.Spins);
            Assert.True(inbox.TryWrite(i));
            Assert.True(inbox.WaitToRead(CancellationToken.None));
            Assert.True(inbox.TryRead(out _));
        }

        Assert.True(inbox.Spins);
    }

    [Fact]
    public async Task Short_sleeping_waits_in_a_row_turn_spinning_on()
    {
        var clock = new SteppingClock(TimeSpan.FromMilliseconds(0.1));
        var inbox = new NodeInbox(clock);

        for (var i = 0; i < NodeInbox.ShortWaitsToSpin; i++)
        {
            Assert.False(inbox.Spins);
            Assert.Equal(i, await WriteOnceTheReaderWaitsAsync(inbox, clock, i));
        }

        Assert.True(inbox.Spins);
    }

    [Fact]
    public async Task A_wait_longer_than_a_spin_could_catch_makes_a_spinning_reader_sleep_at_once_next_time()
    {
        var clock = new SteppingClock(NodeInbox.ShortWait * 5);
        var inbox = new NodeInbox(clock);
        for (var i = 0; i < NodeInbox.ShortWaitsToSpin; i++)
        {
            Assert.True(inbox.TryWrite(i));
            Assert.True(inbox.WaitToRead(CancellationToken.None));
            Assert.True(inbox.TryRead(out _));
        }
        Assert.True(inbox.Spins);

        Assert.Equal("late", await WriteOnceTheReaderWaitsAsync(inbox, clock, "late"));

        Assert.False(inbox.Spins);
    }

    /// <summary>Starts a reader, writes <paramref name="item"/> once it has started timing its wait, and returns what it read.</summary>
    private static async Task<object?> WriteOnceTheReaderWaitsAsync(NodeInbox inbox, SteppingClock clock, object item)
    {
        clock.Read.Reset();
        var reader = Task.Factory.StartNew(
            () => inbox.WaitToRead(CancellationToken.None) && inbox.TryRead(out var read) ? read : "nothing",
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Assert.True(clock.Read.Wait(Patience, TestContext.Current.CancellationToken));
        Assert.True(inbox.TryWrite(item));
        return await reader.WaitAsync(Patience, TestContext.Current.CancellationToken);
    }

    /// <summary>A clock that moves on by <paramref name="step"/> each time it is read, and says when it was read.</summary>
    private sealed class SteppingClock(TimeSpan step) : TimeProvider
    {
        private long _now;

        public ManualResetEventSlim Read { get; } = new();

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp()
        {
            var now = Interlocked.Add(ref _now, step.Ticks);
            Read.Set();
            return now;
        }
    }
}
