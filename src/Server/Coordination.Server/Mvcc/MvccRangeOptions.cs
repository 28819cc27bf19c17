namespace Coordination.Server.Mvcc;

/// <summary>Options of a store-level range read (etcd's mvcc.RangeOptions).</summary>
/// <param name="Revision">The revision to read at; ≤ 0 means the view's revision.</param>
/// <param name="Limit">Maximum key-values to return; ≤ 0 means all. <c>Count</c> is never limited.</param>
/// <param name="CountOnly">Return only the count, no key-values.</param>
internal readonly record struct MvccRangeOptions(long Revision = 0, long Limit = 0, bool CountOnly = false);
