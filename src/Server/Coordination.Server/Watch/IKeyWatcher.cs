using Coordination.Server.Mvcc;
using Mvccpb;

namespace Coordination.Server.Watch;

/// <summary>
/// An in-process watch over the store, for server-side services that wait on keys (the Lock and
/// Election services): the same ordered, gap-free event stream a gRPC watcher gets, without the wire.
/// </summary>
internal interface IKeyWatcher
{
    /// <summary>
    /// Streams the events on keys in <paramref name="range"/> whose revision is at least
    /// <paramref name="startRevision"/> (0: from the next revision on), one list per revision, in
    /// revision order, with no gap and no duplicate, until <paramref name="cancellationToken"/> fires.
    /// Each event's <see cref="Event.PrevKv"/> is filled when <paramref name="prevKv"/> is true.
    /// </summary>
    /// <exception cref="Errors.EtcdException">Compacted, when <paramref name="startRevision"/> is at or below the compact revision.</exception>
    IAsyncEnumerable<IReadOnlyList<Event>> WatchAsync(KeyRange range, long startRevision, bool prevKv, CancellationToken cancellationToken);
}
