using Coordination.Server.Lease;
using Coordination.Server.Mvcc;
using Etcdserverpb;

namespace Coordination.Server.Apply;

/// <summary>
/// etcd's KV semantics over <see cref="MvccStore"/>: executes validated requests and returns the
/// etcd response with <c>header.revision</c> set (the caller fills cluster_id, member_id and
/// raft_term). Write methods must be called from the single apply thread; ranges and
/// read-only txns may run on any thread against a published view.
/// </summary>
/// <remarks>
/// A failing request changes nothing: checks run before writing, and if an op still throws, the
/// store's write transaction is aborted so no partial state is published. Lease attachments are
/// updated after the write transaction commits. Events reach the store's
/// <see cref="IMvccCommitObserver"/>.
/// </remarks>
internal sealed class KvApplier
{
    private readonly MvccStore _store;
    private readonly ILeaseAttachments _leases;

    /// <summary>Creates an applier over <paramref name="store"/> using <paramref name="leases"/> for lease bookkeeping.</summary>
    public KvApplier(MvccStore store, ILeaseAttachments leases)
    {
        _store = store;
        _leases = leases;
    }

    /// <summary>Range against the latest published state.</summary>
    public RangeResponse Range(RangeRequest request) => Range(_store.ReadView, request);

    /// <summary>Range against a given view (e.g. one captured after a ReadIndex).</summary>
    public static RangeResponse Range(IMvccReadView view, RangeRequest request) => RangeExecutor.Execute(view, request);

    /// <summary>Put: LeaseNotFound for an unknown lease, KeyNotFound for ignore flags on a missing key.</summary>
    public PutResponse Put(PutRequest request)
    {
        if (request.Lease != 0 && !_leases.Exists(request.Lease))
        {
            throw Errors.EtcdErrors.LeaseNotFound.ToException();
        }

        return Write(txn => PutExecutor.Execute(txn, request));
    }

    /// <summary>DeleteRange; does not bump the revision when nothing is deleted.</summary>
    public DeleteRangeResponse DeleteRange(DeleteRangeRequest request) =>
        Write(txn => DeleteRangeExecutor.Execute(txn, request));

    /// <summary>
    /// Txn: compares are evaluated and requests checked against the state before the txn; the
    /// chosen branch then runs in one write transaction (one revision for all its writes, none if
    /// it wrote nothing). A txn whose branches hold only ranges runs without a write transaction.
    /// </summary>
    public TxnResponse Txn(TxnRequest request)
    {
        MvccReadView view = _store.ReadView;
        TxnPath path = TxnPath.Compute(view, request);
        TxnExecutor.Check(view, _leases, request, path);
        path.Rewind();
        if (TxnExecutor.IsReadOnly(request))
        {
            return ReadOnlyTxn(view, request, path);
        }

        return Write(txn =>
        {
            TxnResponse response = TxnExecutor.Execute(txn, txn, request, path);
            response.Header.Revision = txn.Revision;
            return response;
        });
    }

    /// <summary>A txn containing only ranges, against a given view (serializable reads off the apply thread).</summary>
    public static TxnResponse ReadOnlyTxn(IMvccReadView view, TxnRequest request)
    {
        if (!TxnExecutor.IsReadOnly(request))
        {
            throw new ArgumentException("The txn contains writes.", nameof(request));
        }

        TxnPath path = TxnPath.Compute(view, request);
        return ReadOnlyTxn(view, request, path);
    }

    /// <summary>
    /// Compact: Compacted when the revision is not above the compact revision, FutureRevision when
    /// above the current one. Immediate in memory, so <c>physical</c> needs no waiting.
    /// </summary>
    public CompactionResponse Compact(CompactionRequest request)
    {
        _store.Compact(request.Revision);
        return new CompactionResponse { Header = new ResponseHeader { Revision = _store.Revision } };
    }

    private static TxnResponse ReadOnlyTxn(IMvccReadView view, TxnRequest request, TxnPath path)
    {
        path.Rewind();
        TxnResponse response = TxnExecutor.Execute(view, null, request, path);
        response.Header.Revision = view.Revision;
        return response;
    }

    private T Write<T>(Func<IMvccWriteTxn, T> apply)
    {
        T response;
        MvccCommit commit;
        using (IMvccWriteTxn txn = _store.BeginWrite())
        {
            // An exception leaves End() uncalled: disposing aborts and nothing is published.
            response = apply(txn);
            commit = txn.End();
        }

        for (var i = 0; i < commit.LeaseChanges.Count; i++)
        {
            var change = commit.LeaseChanges[i];
            if (change.Attached)
            {
                _leases.Attach(change.LeaseId, change.Key);
            }
            else
            {
                _leases.Detach(change.LeaseId, change.Key);
            }
        }

        return response;
    }
}
