using Coordination.Server.Errors;
using Coordination.Server.Lease;
using Coordination.Server.Mvcc;
using Etcdserverpb;

namespace Coordination.Server.Apply;

/// <summary>Checks and executes a <see cref="TxnRequest"/> along a precomputed <see cref="TxnPath"/>.</summary>
internal static class TxnExecutor
{
    /// <summary>True when every op of both top-level branches is a Range (etcd's IsTxnReadonly).</summary>
    public static bool IsReadOnly(TxnRequest request) =>
        request.Success.All(IsRange) && request.Failure.All(IsRange);

    /// <summary>
    /// The checks etcd makes before any write, against the pre-txn <paramref name="view"/> and only
    /// along the chosen branches: range revisions, ignore flags on existing keys, existing leases.
    /// Because of them a txn never fails half-way.
    /// </summary>
    public static void Check(IMvccReadView view, ILeaseAttachments leases, TxnRequest request, TxnPath path)
    {
        bool succeeded = path.Next();
        foreach (RequestOp op in succeeded ? request.Success : request.Failure)
        {
            switch (op.RequestCase)
            {
                case RequestOp.RequestOneofCase.RequestRange:
                    CheckRangeRevision(view, op.RequestRange.Revision);
                    break;
                case RequestOp.RequestOneofCase.RequestPut:
                    PutExecutor.Check(view, leases, op.RequestPut);
                    break;
                case RequestOp.RequestOneofCase.RequestTxn:
                    Check(view, leases, op.RequestTxn, path);
                    break;
            }
        }
    }

    /// <summary>
    /// Runs the chosen branch. Reads go to <paramref name="reader"/> (the write txn itself when
    /// there is one, so they see earlier writes); writes need <paramref name="writer"/>. Nested
    /// responses carry headers with only the revision; a nested txn's own header is left empty, as
    /// in etcd. The caller sets the outer header.
    /// </summary>
    public static TxnResponse Execute(IMvccReadView reader, IMvccWriteTxn? writer, TxnRequest request, TxnPath path)
    {
        bool succeeded = path.Next();
        var response = new TxnResponse { Succeeded = succeeded, Header = new ResponseHeader() };
        foreach (RequestOp op in succeeded ? request.Success : request.Failure)
        {
            response.Responses.Add(op.RequestCase switch
            {
                RequestOp.RequestOneofCase.RequestRange => new ResponseOp { ResponseRange = RangeExecutor.Execute(reader, op.RequestRange) },
                RequestOp.RequestOneofCase.RequestPut => new ResponseOp { ResponsePut = PutExecutor.Execute(RequireWriter(writer), op.RequestPut) },
                RequestOp.RequestOneofCase.RequestDeleteRange => new ResponseOp { ResponseDeleteRange = DeleteRangeExecutor.Execute(RequireWriter(writer), op.RequestDeleteRange) },
                RequestOp.RequestOneofCase.RequestTxn => new ResponseOp { ResponseTxn = Execute(reader, writer, op.RequestTxn, path) },
                _ => new ResponseOp(),
            });
        }

        return response;
    }

    private static void CheckRangeRevision(IMvccReadView view, long revision)
    {
        if (revision == 0)
        {
            return;
        }

        if (revision > view.Revision)
        {
            throw EtcdErrors.FutureRevision.ToException();
        }

        if (revision < view.CompactRevision)
        {
            throw EtcdErrors.Compacted.ToException();
        }
    }

    private static bool IsRange(RequestOp op) => op.RequestCase == RequestOp.RequestOneofCase.RequestRange;

    private static IMvccWriteTxn RequireWriter(IMvccWriteTxn? writer) =>
        writer ?? throw new InvalidOperationException("A write op reached a read-only txn execution.");
}
