using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Coordination.Client.Diagnostics;

/// <summary>
/// The client's traces and metrics: one <see cref="ActivitySource"/> span per call and one
/// <see cref="Meter"/> (calls, latency, retries, watch events, watch reconnects, keep-alive
/// failures). Both are named <see cref="Name"/>.
/// </summary>
internal sealed class ClientTelemetry : IDisposable
{
    public const string Name = "Coordination.Client";

    public static readonly ActivitySource ActivitySource = new(Name, "1.0.0");

    private readonly Meter _meter;
    private readonly bool _ownsMeter;

    public ClientTelemetry(IMeterFactory? meterFactory)
    {
        if (meterFactory is null)
        {
            _meter = new Meter(Name, "1.0.0");
            _ownsMeter = true;
        }
        else
        {
            _meter = meterFactory.Create(Name, "1.0.0");
        }

        Calls = _meter.CreateCounter<long>("coordination.client.calls", "{call}", "Calls by method and outcome.");
        Duration = _meter.CreateHistogram<double>("coordination.client.call.duration", "s", "Call latency, including retries.");
        Retries = _meter.CreateCounter<long>("coordination.client.retries", "{retry}", "Retried attempts.");
        WatchEvents = _meter.CreateCounter<long>("coordination.client.watch.events", "{event}", "Watch events delivered.");
        WatchReconnects = _meter.CreateCounter<long>("coordination.client.watch.reconnects", "{reconnect}", "Watch stream re-opens after a failure.");
        KeepAliveFailures = _meter.CreateCounter<long>("coordination.client.lease.keepalive.failures", "{failure}", "Keep-alive stream failures and leases lost.");
    }

    public Counter<long> Calls { get; }

    public Histogram<double> Duration { get; }

    public Counter<long> Retries { get; }

    public Counter<long> WatchEvents { get; }

    public Counter<long> WatchReconnects { get; }

    public Counter<long> KeepAliveFailures { get; }

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
