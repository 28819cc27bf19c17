using Mvccpb;

namespace Coordination.Server.Mvcc;

/// <summary>What one finished write transaction did.</summary>
/// <param name="Revision">The store revision after the transaction (unchanged when nothing was written).</param>
/// <param name="Events">The PUT/DELETE events of that revision in sub-revision order; empty for a no-op.</param>
/// <param name="PreviousKvs">For each event (same index), the key-value the key had before it, or null.</param>
/// <param name="LeaseChanges">Lease attach/detach bookkeeping the writes imply, in order.</param>
internal sealed record MvccCommit(
    long Revision,
    IReadOnlyList<Event> Events,
    IReadOnlyList<KeyValue?> PreviousKvs,
    IReadOnlyList<LeaseChange> LeaseChanges)
{
    /// <summary>True when the transaction wrote something and so produced a new revision.</summary>
    public bool HasChanges => Events.Count > 0;
}
