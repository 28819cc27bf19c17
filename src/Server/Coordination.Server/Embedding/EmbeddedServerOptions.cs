namespace Coordination.Server.Embedding;

/// <summary>Settings of an <see cref="EmbeddedServer"/>; the defaults suit unit tests.</summary>
public sealed record EmbeddedServerOptions
{
    /// <summary>The member name. Default <c>embedded</c>.</summary>
    public string Name { get; init; } = "embedded";

    /// <summary>The data directory; null (default): a fresh temporary directory, deleted on dispose.</summary>
    public string? DataDir { get; init; }

    /// <summary>Log level: debug, info, warn (default) or error.</summary>
    public string LogLevel { get; init; } = "warn";

    /// <summary>Applied entries between snapshots (etcd's <c>--snapshot-count</c>). Default 100 000.</summary>
    public long SnapshotCount { get; init; } = 100_000;

    /// <summary>The clock for lease expiry and other timed decisions; null: the system clock. Pass a fake clock to expire leases on demand.</summary>
    public TimeProvider? TimeProvider { get; init; }
}
