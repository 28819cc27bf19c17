using Coordination.Server.Errors;
using Coordination.Server.Lease;
using Coordination.Server.Mvcc;
using Etcdserverpb;
using Mvccpb;

namespace Coordination.Server.Apply;

/// <summary>Executes a <see cref="PutRequest"/> inside a write transaction (etcd's put).</summary>
internal static class PutExecutor
{
    /// <summary>
    /// Puts the key. <c>ignore_value</c>/<c>ignore_lease</c> take the existing value/lease and need
    /// the key to exist (KeyNotFound otherwise). The lease's existence is checked by the caller.
    /// Header revision is the transaction's commit revision.
    /// </summary>
    public static PutResponse Execute(IMvccWriteTxn txn, PutRequest request)
    {
        KeyValue? previous = null;
        if (request.IgnoreValue || request.IgnoreLease || request.PrevKv)
        {
            List<KeyValue> existing = txn.Range(KeyRange.Single(request.Key)).Kvs;
            previous = existing.Count > 0 ? existing[0] : null;
        }

        if ((request.IgnoreValue || request.IgnoreLease) && previous is null)
        {
            throw EtcdErrors.KeyNotFound.ToException();
        }

        var value = request.IgnoreValue ? previous!.Value : request.Value;
        long lease = request.IgnoreLease ? previous!.Lease : request.Lease;
        var response = new PutResponse
        {
            Header = new ResponseHeader { Revision = txn.Put(request.Key, value, lease) },
        };
        if (request.PrevKv && previous is not null)
        {
            response.PrevKv = previous;
        }

        return response;
    }

    /// <summary>
    /// The checks etcd makes before a put starts writing: an existing key for the ignore flags
    /// (against <paramref name="view"/>) and an existing lease.
    /// </summary>
    public static void Check(IMvccReadView view, ILeaseAttachments leases, PutRequest request)
    {
        if ((request.IgnoreValue || request.IgnoreLease) && view.Range(KeyRange.Single(request.Key)).Kvs.Count == 0)
        {
            throw EtcdErrors.KeyNotFound.ToException();
        }

        if (request.Lease != 0 && !leases.Exists(request.Lease))
        {
            throw EtcdErrors.LeaseNotFound.ToException();
        }
    }
}
