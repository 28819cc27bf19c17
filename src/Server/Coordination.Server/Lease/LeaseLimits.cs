using Coordination.Server.Hosting;

namespace Coordination.Server.Lease;

/// <summary>etcd's bounds on a lease's TTL.</summary>
internal static class LeaseLimits
{
    /// <summary>The largest TTL a grant may ask for, in seconds; above it the grant fails with "too large lease TTL".</summary>
    public const long MaxTtlSeconds = 9_000_000_000;

    /// <summary>
    /// The smallest TTL a lease gets, in seconds: one and a half election timeouts, counted in whole
    /// heartbeat ticks (as etcd does) and rounded up to a second. With the defaults (100 ms heartbeat,
    /// 1000 ms election timeout) that is 2 seconds. A lease that could expire within one election
    /// would be lost on every change of leader.
    /// </summary>
    public static long MinTtlSeconds(ServerOptions options)
    {
        var heartbeatMs = Math.Max(1, options.HeartbeatIntervalMs);
        long electionTicks = options.ElectionTimeoutMs / heartbeatMs;
        var minTtlMs = 3 * electionTicks / 2 * heartbeatMs;
        return (long)Math.Ceiling(minTtlMs / 1000.0);
    }
}
