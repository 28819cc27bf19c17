using Coordination.Server.Errors;
using Etcdserverpb;

namespace Coordination.Server.Apply;

/// <summary>
/// The checks etcd makes before proposing a KV request (v3rpc/key.go). Pure; throws
/// <see cref="EtcdException"/> with the exact catalogue error.
/// </summary>
/// <remarks>
/// An unknown <c>sort_target</c> is rejected with InvalidSortOption, as etcd 3.6 does (3.4 could
/// crash on it). An unknown <c>sort_order</c> is accepted and leaves the result unsorted, exactly
/// as etcd 3.4 answers it (checked against a real etcd in the bad-input suite).
/// </remarks>
internal sealed class RequestValidator
{
    private readonly int _maxTxnOps;

    /// <summary>Creates a validator allowing at most <paramref name="maxTxnOps"/> ops per txn level (etcd default 128).</summary>
    public RequestValidator(int maxTxnOps = 128)
    {
        _maxTxnOps = maxTxnOps;
    }

    /// <summary>Empty key → EmptyKey; unknown sort option → InvalidSortOption.</summary>
    public static void Validate(RangeRequest request)
    {
        if (request.Key.IsEmpty)
        {
            throw EtcdErrors.EmptyKey.ToException();
        }

        if (!Enum.IsDefined(request.SortTarget))
        {
            throw EtcdErrors.InvalidSortOption.ToException();
        }
    }

    /// <summary>Empty key → EmptyKey; ignore_value with a value → ValueProvided; ignore_lease with a lease → LeaseProvided.</summary>
    public static void Validate(PutRequest request)
    {
        if (request.Key.IsEmpty)
        {
            throw EtcdErrors.EmptyKey.ToException();
        }

        if (request.IgnoreValue && !request.Value.IsEmpty)
        {
            throw EtcdErrors.ValueProvided.ToException();
        }

        if (request.IgnoreLease && request.Lease != 0)
        {
            throw EtcdErrors.LeaseProvided.ToException();
        }
    }

    /// <summary>Empty key → EmptyKey.</summary>
    public static void Validate(DeleteRangeRequest request)
    {
        if (request.Key.IsEmpty)
        {
            throw EtcdErrors.EmptyKey.ToException();
        }
    }

    /// <summary>
    /// In etcd's order: op count per level (TooManyOps), then compares' keys and each op in turn
    /// (EmptyKey, KeyNotFound for an empty op, put flag errors, nested txns with the remaining
    /// budget), then the duplicate-key rule on success and on failure (DuplicateKey).
    /// </summary>
    public void Validate(TxnRequest request)
    {
        Validate(request, _maxTxnOps);
        TxnIntervalChecker.Check(request.Success);
        TxnIntervalChecker.Check(request.Failure);
    }

    private static void Validate(TxnRequest request, int maxOps)
    {
        int ops = Math.Max(request.Compare.Count, Math.Max(request.Success.Count, request.Failure.Count));
        if (ops > maxOps)
        {
            throw EtcdErrors.TooManyOps.ToException();
        }

        foreach (Compare compare in request.Compare)
        {
            if (compare.Key.IsEmpty)
            {
                throw EtcdErrors.EmptyKey.ToException();
            }
        }

        foreach (RequestOp op in request.Success)
        {
            Validate(op, maxOps - ops);
        }

        foreach (RequestOp op in request.Failure)
        {
            Validate(op, maxOps - ops);
        }
    }

    private static void Validate(RequestOp op, int maxOps)
    {
        switch (op.RequestCase)
        {
            case RequestOp.RequestOneofCase.RequestRange:
                Validate(op.RequestRange);
                break;
            case RequestOp.RequestOneofCase.RequestPut:
                Validate(op.RequestPut);
                break;
            case RequestOp.RequestOneofCase.RequestDeleteRange:
                Validate(op.RequestDeleteRange);
                break;
            case RequestOp.RequestOneofCase.RequestTxn:
                Validate(op.RequestTxn, maxOps);
                break;
            default:
                throw EtcdErrors.KeyNotFound.ToException();
        }
    }
}
