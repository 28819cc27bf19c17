using Etcdserverpb;

namespace Coordination.Server.StateMachine;

/// <summary>Questions about a txn's operations, asked before proposing and while applying.</summary>
internal static class TxnShape
{
    /// <summary>True when any branch (nested ones included) contains a put.</summary>
    public static bool HasPuts(TxnRequest txn) => Any(txn, op => op.RequestCase == RequestOp.RequestOneofCase.RequestPut);

    /// <summary>True when every operation in every branch is a range: the txn changes nothing.</summary>
    public static bool IsReadOnly(TxnRequest txn) =>
        !Any(txn, op => op.RequestCase is RequestOp.RequestOneofCase.RequestPut or RequestOp.RequestOneofCase.RequestDeleteRange);

    /// <summary>True when the txn is read-only and every range asks for a serializable read.</summary>
    public static bool IsSerializable(TxnRequest txn) =>
        IsReadOnly(txn) && !Any(txn, op => op.RequestCase == RequestOp.RequestOneofCase.RequestRange && !op.RequestRange.Serializable);

    /// <summary>Quota cost of the txn's puts, as etcd counts it: 256 + key + value bytes each.</summary>
    public static long PutCost(TxnRequest txn)
    {
        long cost = 0;
        _ = Any(txn, op =>
        {
            if (op.RequestCase == RequestOp.RequestOneofCase.RequestPut) cost += PutCost(op.RequestPut);
            return false;
        });
        return cost;
    }

    /// <summary>Quota cost of one put.</summary>
    public static long PutCost(PutRequest put) => 256 + put.Key.Length + put.Value.Length;

    private static bool Any(TxnRequest txn, Func<RequestOp, bool> predicate)
    {
        foreach (var op in txn.Success.Concat(txn.Failure))
        {
            if (op.RequestCase == RequestOp.RequestOneofCase.RequestTxn && Any(op.RequestTxn, predicate)) return true;
            if (predicate(op)) return true;
        }
        return false;
    }
}
