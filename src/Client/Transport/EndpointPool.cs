using System.Collections.Immutable;
using Coordination.Client.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Coordination.Client.Transport;

/// <summary>
/// The endpoints and their channels. Picks an endpoint per call (round-robin or pinned) among the
/// healthy ones; an endpoint that failed at the transport level is avoided for a cooldown. The list
/// can be replaced (endpoint sync); channels of removed endpoints are disposed.
/// </summary>
internal sealed class EndpointPool : IDisposable
{
    private readonly ChannelFactory _factory;
    private readonly CoordinationClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private ImmutableArray<EndpointChannel> _endpoints;
    private int _next = -1; // the first pick is the first endpoint
    private EndpointChannel? _pinned;
    private readonly List<EndpointChannel> _retired = [];

    public EndpointPool(ChannelFactory factory, CoordinationClientOptions options, ILogger logger)
    {
        _factory = factory;
        _options = options;
        _time = options.TimeProvider;
        _logger = logger;
        _endpoints = [.. options.Endpoints.Select(ChannelFactory.Normalize).Distinct(StringComparer.Ordinal).Select(factory.Create)];
        if (_endpoints.IsEmpty)
        {
            throw new ArgumentException("At least one endpoint is required.", nameof(options));
        }
    }

    public IReadOnlyList<string> Addresses => [.. _endpoints.Select(e => e.Address)];

    /// <summary>The endpoint pinned calls currently go to (and the next stream would open on).</summary>
    public EndpointChannel Current => _pinned ?? Pick();

    /// <summary>The endpoint for the next call.</summary>
    public EndpointChannel Pick()
    {
        var endpoints = _endpoints;
        var now = _time.GetUtcNow();
        if (_options.EndpointSelection == EndpointSelection.Pinned && _pinned is { } pinned && pinned.IsHealthy(now) && endpoints.Contains(pinned))
        {
            return pinned;
        }

        var start = Interlocked.Increment(ref _next);
        for (var i = 0; i < endpoints.Length; i++)
        {
            var candidate = endpoints[(int)((uint)(start + i) % (uint)endpoints.Length)];
            if (candidate.IsHealthy(now))
            {
                _pinned = candidate;
                return candidate;
            }
        }

        // All in cooldown: the one that recovers first.
        var best = endpoints.MinBy(e => e.UnhealthyUntil)!;
        _pinned = best;
        return best;
    }

    public EndpointChannel? Find(string address)
    {
        var normalized = ChannelFactory.Normalize(address);
        return _endpoints.FirstOrDefault(e => e.Address == normalized);
    }

    public void ReportTransportFailure(EndpointChannel endpoint)
    {
        endpoint.UnhealthyUntil = _time.GetUtcNow() + _options.EndpointCooldown;
        if (ReferenceEquals(_pinned, endpoint))
        {
            _pinned = null;
        }

        Log.EndpointUnhealthy(_logger, endpoint.Address, _options.EndpointCooldown);
    }

    public void ReportSuccess(EndpointChannel endpoint)
    {
        if (endpoint.UnhealthyUntil != default)
        {
            endpoint.UnhealthyUntil = default;
        }
    }

    /// <summary>Replaces the endpoint list, keeping the channels of endpoints that stay.</summary>
    public void Replace(IEnumerable<string> addresses)
    {
        var wanted = addresses.Select(ChannelFactory.Normalize).Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == 0)
        {
            return;
        }

        List<EndpointChannel> removed;
        lock (_gate)
        {
            var current = _endpoints.ToDictionary(e => e.Address, StringComparer.Ordinal);
            _endpoints = [.. wanted.Select(a => current.TryGetValue(a, out var kept) ? kept : _factory.Create(a))];
            removed = [.. current.Values.Where(e => !wanted.Contains(e.Address))];
            _retired.AddRange(removed);
        }

        // Calls still running on a removed channel finish or fail on their own; new calls never pick it.
        // Its channel is disposed with the pool.
        foreach (var endpoint in removed)
        {
            if (ReferenceEquals(_pinned, endpoint))
            {
                _pinned = null;
            }
        }

        Log.EndpointsSynced(_logger, string.Join(", ", wanted));
    }

    public void Dispose()
    {
        foreach (var endpoint in _endpoints.Concat(_retired))
        {
            endpoint.Dispose();
        }
    }
}
