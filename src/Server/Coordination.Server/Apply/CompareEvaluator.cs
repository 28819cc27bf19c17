using Coordination.Server.Errors;
using Coordination.Server.Mvcc;
using Etcdserverpb;
using Mvccpb;

namespace Coordination.Server.Apply;

/// <summary>Evaluates txn <see cref="Compare"/>s against a view (etcd's applyCompare).</summary>
internal static class CompareEvaluator
{
    private static readonly KeyValue Absent = new();

    /// <summary>True when every compare holds.</summary>
    public static bool All(IMvccReadView view, IEnumerable<Compare> compares)
    {
        foreach (Compare compare in compares)
        {
            if (!Holds(view, compare))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// True when the compare holds for every key of its range at the view's revision. With no key
    /// in the range it runs against an all-zero key-value, except that VALUE always fails then.
    /// </summary>
    public static bool Holds(IMvccReadView view, Compare compare)
    {
        MvccRangeResult result;
        try
        {
            result = view.Range(KeyRange.FromRequest(compare.Key, compare.RangeEnd));
        }
        catch (EtcdException)
        {
            return false;
        }

        if (result.Kvs.Count == 0)
        {
            return compare.Target != Compare.Types.CompareTarget.Value && Matches(compare, Absent);
        }

        foreach (KeyValue kv in result.Kvs)
        {
            if (!Matches(compare, kv))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Compares one key-value; an unset target_union member compares as 0 or empty.</summary>
    public static bool Matches(Compare compare, KeyValue kv)
    {
        // The generated getters return 0 / empty when the union holds another member, as etcd expects.
        int order = compare.Target switch
        {
            Compare.Types.CompareTarget.Value => KeyComparer.Compare(kv.Value, compare.Value),
            Compare.Types.CompareTarget.Create => kv.CreateRevision.CompareTo(compare.CreateRevision),
            Compare.Types.CompareTarget.Mod => kv.ModRevision.CompareTo(compare.ModRevision),
            Compare.Types.CompareTarget.Version => kv.Version.CompareTo(compare.Version),
            Compare.Types.CompareTarget.Lease => kv.Lease.CompareTo(compare.Lease),
            _ => 0,
        };

        return compare.Result switch
        {
            Compare.Types.CompareResult.Equal => order == 0,
            Compare.Types.CompareResult.NotEqual => order != 0,
            Compare.Types.CompareResult.Greater => order > 0,
            Compare.Types.CompareResult.Less => order < 0,
            _ => true,
        };
    }
}
