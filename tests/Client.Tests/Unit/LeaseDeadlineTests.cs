using Coordination.Compatibility.Tests.Fixtures;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Client.Tests.Unit;

/// <summary>The keep-alive hub on a fake clock: a lease that cannot be renewed is declared lost exactly at its deadline.</summary>
public sealed class LeaseDeadlineTests
{
    [Fact]
    public async Task A_lease_that_cannot_be_renewed_is_lost_at_its_deadline_not_before()
    {
        var logs = new Fixtures.RecordingLoggerFactory();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var root = CoordinationClient.Create(new CoordinationClientOptions
        {
            Endpoints = [$"http://127.0.0.1:{FreePorts.Next()}"], // nobody listens: no renewal can succeed
            TimeProvider = time,
        }, logs);
        var hub = ((ClientRoot)root).KeepAliveHub;
        var lost = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await using var handle = hub.Add(id: 42, ttlSeconds: 3, deadline: time.GetUtcNow() + TimeSpan.FromSeconds(3));
        using var registration = handle.LeaseLost.Register(() => lost.TrySetResult());

        for (var step = 0; step < 11; step++) // 2.75 s of fake time, in ticks of 250 ms
        {
            time.Advance(TimeSpan.FromMilliseconds(250));
            await Task.Delay(20, TestContext.Current.CancellationToken); // let the loop take the tick
        }

        Assert.False(handle.LeaseLost.IsCancellationRequested, "lost before its deadline");

        for (var step = 0; step < 4 && !lost.Task.IsCompleted; step++)
        {
            time.Advance(TimeSpan.FromMilliseconds(250));
            await Task.WhenAny(lost.Task, Task.Delay(200, TestContext.Current.CancellationToken));
        }

        await Task.WhenAny(lost.Task, Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        Assert.True(lost.Task.IsCompleted, "not lost after the deadline; log:\n" + string.Join("\n", logs.Messages));
        Assert.True(handle.LeaseLost.IsCancellationRequested);
    }
}
