using Coordination.Server.Errors;
using Coordination.Server.Mvcc;
using Etcdserverpb;
using Google.Protobuf;
using Mvccpb;

namespace Coordination.Server.Apply;

/// <summary>Executes a <see cref="RangeRequest"/> against a view (etcd's executeRange).</summary>
internal static class RangeExecutor
{
    /// <summary>
    /// Reads the range and shapes the result: revision filters, sorting, limit and <c>more</c>,
    /// <c>keys_only</c>, <c>count_only</c>. Header revision is the view's revision, even when
    /// reading the past. The <c>serializable</c> flag is the caller's concern and ignored here.
    /// </summary>
    public static RangeResponse Execute(IMvccReadView view, RangeRequest request)
    {
        RangeRequest.Types.SortOrder order = request.SortOrder;
        RangeRequest.Types.SortTarget target = request.SortTarget;
        if (!Enum.IsDefined(target))
        {
            throw EtcdErrors.InvalidSortOption.ToException();
        }

        // etcd 3.4 sorts only for ASCEND or DESCEND; any other non-NONE order leaves key order.
        if (!Enum.IsDefined(order))
        {
            order = RangeRequest.Types.SortOrder.None;
            target = RangeRequest.Types.SortTarget.Key;
        }

        bool filtered = request.MinModRevision != 0 || request.MaxModRevision != 0 ||
                        request.MinCreateRevision != 0 || request.MaxCreateRevision != 0;

        // With a non-default order or a filter, everything is fetched and truncated afterwards;
        // otherwise one extra key tells whether there are more.
        long fetchLimit = order != RangeRequest.Types.SortOrder.None || filtered ? 0
            : request.Limit > 0 ? request.Limit + 1 : 0;

        MvccRangeResult result = view.Range(
            KeyRange.FromRequest(request.Key, request.RangeEnd),
            new MvccRangeOptions(request.Revision, fetchLimit, request.CountOnly));

        List<KeyValue> kvs = result.Kvs;
        if (filtered)
        {
            kvs.RemoveAll(kv =>
                (request.MaxModRevision != 0 && kv.ModRevision > request.MaxModRevision) ||
                (request.MinModRevision != 0 && kv.ModRevision < request.MinModRevision) ||
                (request.MaxCreateRevision != 0 && kv.CreateRevision > request.MaxCreateRevision) ||
                (request.MinCreateRevision != 0 && kv.CreateRevision < request.MinCreateRevision));
        }

        Sort(kvs, EffectiveOrder(order, target), target);

        var response = new RangeResponse
        {
            Header = new ResponseHeader { Revision = result.Revision },
            Count = result.Count,
        };
        if (request.Limit > 0 && kvs.Count > request.Limit)
        {
            kvs.RemoveRange((int)request.Limit, kvs.Count - (int)request.Limit);
            response.More = true;
        }

        if (request.KeysOnly)
        {
            foreach (KeyValue kv in kvs)
            {
                kv.Value = ByteString.Empty;
            }
        }

        response.Kvs.AddRange(kvs);
        return response;
    }

    /// <summary>
    /// A non-key target with order NONE sorts ascending; key-ascending is the store's natural order.
    /// </summary>
    public static RangeRequest.Types.SortOrder EffectiveOrder(RangeRequest.Types.SortOrder order, RangeRequest.Types.SortTarget target)
    {
        if (target != RangeRequest.Types.SortTarget.Key && order == RangeRequest.Types.SortOrder.None)
        {
            return RangeRequest.Types.SortOrder.Ascend;
        }

        if (target == RangeRequest.Types.SortTarget.Key && order == RangeRequest.Types.SortOrder.Ascend)
        {
            return RangeRequest.Types.SortOrder.None;
        }

        return order;
    }

    /// <summary>
    /// Sorts by <paramref name="target"/>. Ties keep ascending key order when ascending; descending
    /// is the exact reverse of ascending (etcd leaves tie order unspecified).
    /// </summary>
    private static void Sort(List<KeyValue> kvs, RangeRequest.Types.SortOrder order, RangeRequest.Types.SortTarget target)
    {
        if (order == RangeRequest.Types.SortOrder.None || kvs.Count < 2)
        {
            return;
        }

        Comparison<KeyValue> byTarget = target switch
        {
            RangeRequest.Types.SortTarget.Version => (a, b) => a.Version.CompareTo(b.Version),
            RangeRequest.Types.SortTarget.Create => (a, b) => a.CreateRevision.CompareTo(b.CreateRevision),
            RangeRequest.Types.SortTarget.Mod => (a, b) => a.ModRevision.CompareTo(b.ModRevision),
            RangeRequest.Types.SortTarget.Value => (a, b) => KeyComparer.Compare(a.Value, b.Value),
            _ => (_, _) => 0,
        };

        // Input is in ascending key order, so breaking ties by key makes the sort stable.
        int sign = order == RangeRequest.Types.SortOrder.Descend ? -1 : 1;
        kvs.Sort((a, b) =>
        {
            int c = byTarget(a, b);
            return sign * (c != 0 ? c : KeyComparer.Compare(a.Key, b.Key));
        });
    }
}
