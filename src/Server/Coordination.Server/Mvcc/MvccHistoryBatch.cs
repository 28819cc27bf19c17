using Mvccpb;

namespace Coordination.Server.Mvcc;

/// <summary>
/// A slice of the store's change history: whole revisions only, in (main, sub) revision order.
/// </summary>
/// <param name="Events">The PUT/DELETE events, each with the key-value after the change (a DELETE carries key and mod_revision only).</param>
/// <param name="PreviousKvs">For each event (same index), the key as it was just before it, or null when it did not exist or that version was compacted.</param>
/// <param name="NextRevision">The first revision not covered: where the next read continues.</param>
internal sealed record MvccHistoryBatch(IReadOnlyList<Event> Events, IReadOnlyList<KeyValue?> PreviousKvs, long NextRevision);
