using Microsoft.Extensions.Logging;

namespace Coordination.Client.Diagnostics;

/// <summary>The client's log messages (source-generated).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "{Method} attempt {Attempt} on {Endpoint} failed: {Reason}; retrying")]
    public static partial void Retrying(ILogger logger, string method, int attempt, string endpoint, string reason);

    [LoggerMessage(2, LogLevel.Warning, "{Method} on {Endpoint} failed after the request was sent; outcome unknown, not retried")]
    public static partial void OutcomeUnknown(ILogger logger, string method, string endpoint, Exception exception);

    [LoggerMessage(3, LogLevel.Information, "Endpoint {Endpoint} marked unhealthy for {Cooldown}")]
    public static partial void EndpointUnhealthy(ILogger logger, string endpoint, TimeSpan cooldown);

    [LoggerMessage(4, LogLevel.Information, "Watch stream on {Endpoint} broke ({Reason}); resuming {Count} watches")]
    public static partial void WatchStreamBroken(ILogger logger, string endpoint, string reason, int count);

    [LoggerMessage(5, LogLevel.Information, "Keep-alive stream on {Endpoint} broke ({Reason}); reconnecting")]
    public static partial void KeepAliveStreamBroken(ILogger logger, string endpoint, string reason);

    [LoggerMessage(6, LogLevel.Warning, "Lease {LeaseId:x} lost: {Reason}")]
    public static partial void LeaseLost(ILogger logger, long leaseId, string reason);

    [LoggerMessage(7, LogLevel.Information, "Endpoints synced from the member list: {Endpoints}")]
    public static partial void EndpointsSynced(ILogger logger, string endpoints);

    [LoggerMessage(8, LogLevel.Warning, "Endpoint sync failed")]
    public static partial void EndpointSyncFailed(ILogger logger, Exception exception);

    [LoggerMessage(9, LogLevel.Debug, "Auth token refreshed for {User}")]
    public static partial void TokenRefreshed(ILogger logger, string user);
}
