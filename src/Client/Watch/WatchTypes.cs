using Coordination.Client.Kv;

namespace Coordination.Client.Watch;

/// <summary>Kind of change.</summary>
public enum WatchEventType
{
    /// <summary>The key was created or updated.</summary>
    Put,

    /// <summary>The key was deleted (or expired with its lease).</summary>
    Delete,
}

/// <summary>One change of one key.</summary>
/// <param name="Type">Put or delete.</param>
/// <param name="Kv">The key after the change (for a delete: the key with its mod revision, no value).</param>
/// <param name="PrevKv">The key before the change, when the watch asked for it and the server still had it.</param>
public sealed record WatchEvent(WatchEventType Type, KeyValue Kv, KeyValue? PrevKv)
{
    internal static WatchEvent From(Mvccpb.Event e) =>
        new(e.Type == Mvccpb.Event.Types.EventType.Delete ? WatchEventType.Delete : WatchEventType.Put, new KeyValue(e.Kv), KeyValue.From(e.PrevKv));
}

/// <summary>
/// What a watch delivers: the events of one or more whole revisions, in revision order, or a
/// progress notification (no events) saying the watch has seen everything up to
/// <see cref="Revision"/>.
/// </summary>
/// <param name="Revision">The store revision when the server sent the batch.</param>
/// <param name="Events">The events, in revision order; empty for a progress notification.</param>
/// <param name="IsProgressNotification">True when the batch carries no events but a progress revision.</param>
public sealed record WatchBatch(long Revision, IReadOnlyList<WatchEvent> Events, bool IsProgressNotification);

/// <summary>Options of a watch.</summary>
public sealed record WatchOptions
{
    /// <summary>First revision to deliver; 0 means changes after the watch is created.</summary>
    public long StartRevision { get; init; }

    /// <summary>Watch every key starting with the key.</summary>
    public bool Prefix { get; init; }

    /// <summary>Watch [key, RangeEnd) instead of one key (ignored when <see cref="Prefix"/> is set).</summary>
    public ReadOnlyMemory<byte> RangeEnd { get; init; }

    /// <summary>Include the previous key-value in each event.</summary>
    public bool PrevKv { get; init; }

    /// <summary>Ask the server for periodic progress notifications when idle.</summary>
    public bool ProgressNotify { get; init; }

    /// <summary>Do not deliver put events.</summary>
    public bool NoPut { get; init; }

    /// <summary>Do not deliver delete events.</summary>
    public bool NoDelete { get; init; }
}

/// <summary>
/// A created watch: enumerate it for batches (once), dispose it to cancel. Enumeration ends with
/// <see cref="EtcdCompactedException"/> when the server can no longer supply the history the watch
/// needs (it carries the compact revision: re-read and watch again above it). A broken connection
/// is invisible here: the watch resumes on another connection from the revision after the last one
/// delivered, with no gap and no duplicate.
/// </summary>
public interface IWatchSubscription : IAsyncEnumerable<WatchBatch>, IAsyncDisposable
{
    /// <summary>The store revision when the server first acknowledged the watch.</summary>
    long CreatedRevision { get; }

    /// <summary>The events alone, flattened; progress notifications are skipped.</summary>
    IAsyncEnumerable<WatchEvent> EventsAsync(CancellationToken cancellationToken = default);
}

/// <summary>Watches, multiplexed over one gRPC stream per client and resumed after a broken connection.</summary>
public interface IWatchClient
{
    /// <summary>Creates a watch on <paramref name="key"/> and returns once the server acknowledged it.</summary>
    Task<IWatchSubscription> WatchAsync(ReadOnlyMemory<byte> key, WatchOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Asks the server for a progress notification on every watch of the stream (etcd 3.4+).</summary>
    Task RequestProgressAsync(CancellationToken cancellationToken = default);
}
