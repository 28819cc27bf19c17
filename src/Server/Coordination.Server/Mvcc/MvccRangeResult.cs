using Mvccpb;

namespace Coordination.Server.Mvcc;

/// <summary>The result of a store-level range read.</summary>
/// <param name="Kvs">Key-values in ascending key order, at most the requested limit; fresh objects the caller may change.</param>
/// <param name="Count">How many keys exist in the range at the read revision (not reduced by the limit).</param>
/// <param name="Revision">The revision of the view that served the read (the header revision etcd reports).</param>
internal sealed record MvccRangeResult(List<KeyValue> Kvs, long Count, long Revision);
