using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Coordination.Client.Kv;
using Coordination.Client.Tests.Fixtures;

namespace Coordination.Client.Tests.Unit;

[Collection(EtcdCollection.Name)]
public sealed class ObservabilityTests(EtcdTarget etcd)
{
    [Fact]
    public async Task Each_call_is_a_span_and_is_counted_and_timed()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == "Coordination.Client",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(activities);
        var calls = new ConcurrentQueue<(string Instrument, object? Method)>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "Coordination.Client")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((i, _, tags, _) => calls.Enqueue((i.Name, Method(tags))));
        meters.SetMeasurementEventCallback<double>((i, _, tags, _) => calls.Enqueue((i.Name, Method(tags))));
        meters.Start();

        await using var client = etcd.CreateClient();
        await client.Kv.PutAsync($"/obs/{Guid.NewGuid():N}", "v", cancellationToken: TestContext.Current.CancellationToken);

        Assert.Contains(spans, a => a.OperationName == "KV/Put" && (string?)a.GetTagItem("server.address") == etcd.Endpoints[0]);
        Assert.Contains(calls, c => c.Instrument == "coordination.client.calls" && (string?)c.Method == "KV/Put");
        Assert.Contains(calls, c => c.Instrument == "coordination.client.call.duration" && (string?)c.Method == "KV/Put");
    }

    private static object? Method(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == "rpc.method")
            {
                return tag.Value;
            }
        }

        return null;
    }
}
