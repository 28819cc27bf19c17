namespace Coordination.Client.Lease;

/// <summary>A lease the keep-alive hub renews: its TTL, deadline, next renewal, and the handles that asked for it.</summary>
internal sealed class KeptLease(long id, long ttlSeconds, DateTimeOffset deadline, DateTimeOffset now)
{
    public long Id { get; } = id;

    public long TtlSeconds { get; set; } = ttlSeconds;

    public DateTimeOffset Deadline { get; set; } = deadline;

    public DateTimeOffset NextSend { get; set; } = now;

    public CancellationTokenSource Lost { get; } = new();

    public List<KeepAliveHandle> Handles { get; } = [];
}
