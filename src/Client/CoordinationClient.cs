using System.Diagnostics.Metrics;
using Coordination.Client.Auth;
using Coordination.Client.Cluster;
using Coordination.Client.Diagnostics;
using Coordination.Client.Kv;
using Coordination.Client.Lease;
using Coordination.Client.Maintenance;
using Coordination.Client.Transport;
using Coordination.Client.Watch;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coordination.Client;

/// <summary>Creates clients without dependency injection.</summary>
public static class CoordinationClient
{
    /// <summary>Creates a client for <paramref name="options"/>; dispose it when the application stops.</summary>
    /// <param name="options">Endpoints, credentials, TLS and timeouts.</param>
    /// <param name="loggerFactory">Where the client logs; none when null.</param>
    /// <param name="meterFactory">Creates the client's meter; a standalone meter when null.</param>
    public static ICoordinationClient Create(CoordinationClientOptions options, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        CoordinationClientOptionsValidator.ThrowIfInvalid(options);
        return new ClientRoot(options, loggerFactory ?? NullLoggerFactory.Instance, meterFactory);
    }

    /// <summary>Creates a client for a comma-separated endpoint list, with default options.</summary>
    public static ICoordinationClient Create(string endpoints) =>
        Create(new CoordinationClientOptions { Endpoints = [.. endpoints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] });
}
