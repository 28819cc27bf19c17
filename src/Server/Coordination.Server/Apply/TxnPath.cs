using Coordination.Server.Mvcc;
using Etcdserverpb;

namespace Coordination.Server.Apply;

/// <summary>
/// The branch every (nested) txn of a request takes, decided up front against the state before the
/// txn runs (etcd's txnPath): element 0 is the outer txn, then, depth first, each nested txn of the
/// chosen branch. Nested compares therefore never see the outer txn's own writes.
/// </summary>
internal sealed class TxnPath
{
    private readonly List<bool> _branches = [];
    private int _next;

    private TxnPath()
    {
    }

    /// <summary>Evaluates every compare reachable through chosen branches.</summary>
    public static TxnPath Compute(IMvccReadView view, TxnRequest request)
    {
        var path = new TxnPath();
        path.Add(view, request);
        return path;
    }

    /// <summary>Takes the decision for the next txn in depth-first order.</summary>
    public bool Next() => _branches[_next++];

    /// <summary>Starts reading decisions from the beginning again.</summary>
    public void Rewind() => _next = 0;

    private void Add(IMvccReadView view, TxnRequest request)
    {
        bool succeeded = CompareEvaluator.All(view, request.Compare);
        _branches.Add(succeeded);
        foreach (RequestOp op in succeeded ? request.Success : request.Failure)
        {
            if (op.RequestCase == RequestOp.RequestOneofCase.RequestTxn)
            {
                Add(view, op.RequestTxn);
            }
        }
    }
}
