using Coordination.Server.Mvcc;
using Etcdserverpb;

namespace Coordination.Server.Apply;

/// <summary>Executes a <see cref="DeleteRangeRequest"/> inside a write transaction (etcd's deleteRange).</summary>
internal static class DeleteRangeExecutor
{
    /// <summary>
    /// Deletes every live key of the range, returning them first when <c>prev_kv</c> is set. The
    /// header revision is the transaction's revision if it has changed anything, else the current one.
    /// </summary>
    public static DeleteRangeResponse Execute(IMvccWriteTxn txn, DeleteRangeRequest request)
    {
        KeyRange range = KeyRange.FromRequest(request.Key, request.RangeEnd);
        var response = new DeleteRangeResponse();
        if (request.PrevKv)
        {
            response.PrevKvs.AddRange(txn.Range(range).Kvs);
        }

        (long deleted, long revision) = txn.DeleteRange(range);
        response.Deleted = deleted;
        response.Header = new ResponseHeader { Revision = revision };
        return response;
    }
}
