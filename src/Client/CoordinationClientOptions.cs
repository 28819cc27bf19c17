namespace Coordination.Client;

/// <summary>
/// Settings of a <see cref="ICoordinationClient"/>. Bindable from configuration
/// (<c>"Coordination:Client"</c> by convention): every property except <see cref="TimeProvider"/>.
/// </summary>
public sealed class CoordinationClientOptions
{
    /// <summary>Client URLs of the cluster members, for example <c>http://10.0.0.1:2379</c>. At least one.</summary>
    public List<string> Endpoints { get; set; } = [];

    /// <summary>User name for etcd authentication; null when authentication is not used.</summary>
    public string? Username { get; set; }

    /// <summary>Password of <see cref="Username"/>.</summary>
    public string? Password { get; set; }

    /// <summary>PEM file of the CA that signed the servers' certificates (https endpoints); null trusts the system store.</summary>
    public string? TrustedCaFile { get; set; }

    /// <summary>PEM file of the client certificate for mutual TLS; needs <see cref="ClientKeyFile"/>.</summary>
    public string? ClientCertificateFile { get; set; }

    /// <summary>PEM file of the private key of <see cref="ClientCertificateFile"/>.</summary>
    public string? ClientKeyFile { get; set; }

    /// <summary>How long to wait for a TCP (and TLS) connection to an endpoint.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Deadline of one attempt of a unary call (each retry gets a new one).</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>HTTP/2 keep-alive ping interval on idle connections; <see cref="TimeSpan.Zero"/> disables pings.</summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a keep-alive ping may go unanswered before the connection is closed.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many times a call that is safe to retry is retried (on other endpoints when possible).</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>First delay between retries; it grows exponentially with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>How long an endpoint that failed at the transport level is avoided.</summary>
    public TimeSpan EndpointCooldown { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How unary calls are spread over the healthy endpoints.</summary>
    public EndpointSelection EndpointSelection { get; set; } = EndpointSelection.RoundRobin;

    /// <summary>When set, the endpoint list is refreshed from the cluster's member list at this interval.</summary>
    public TimeSpan? EndpointSyncInterval { get; set; }

    /// <summary>Largest response message accepted, in bytes.</summary>
    public int MaxReceiveMessageBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Clock of the client's own scheduling: keep-alive cadence, lease deadlines, retry back-off,
    /// endpoint sync and cooldowns; <see cref="TimeProvider.System"/> by default. Per-call gRPC deadlines
    /// always use the machine clock (the transport measures them). Not bound from configuration.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}

/// <summary>How unary calls choose among healthy endpoints.</summary>
public enum EndpointSelection
{
    /// <summary>Each call goes to the next healthy endpoint in turn.</summary>
    RoundRobin,

    /// <summary>All calls go to one endpoint until it fails, then to the next healthy one.</summary>
    Pinned,
}
