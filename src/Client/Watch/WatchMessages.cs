using Coordination.Client.Errors;
using Coordination.Client.Kv;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Coordination.Client.Watch;

/// <summary>Builds watch create requests from <see cref="WatchOptions"/> and reads cancellations.</summary>
internal static class WatchMessages
{
    public static WatchCreateRequest CreateRequest(ReadOnlyMemory<byte> key, WatchOptions options)
    {
        var create = new WatchCreateRequest
        {
            Key = KeyRange.Bytes(key),
            StartRevision = options.StartRevision,
            PrevKv = options.PrevKv,
            ProgressNotify = options.ProgressNotify,
        };
        if (options.Prefix)
        {
            create.RangeEnd = ByteString.CopyFrom(KeyRange.PrefixEnd(key.Span));
        }
        else if (!options.RangeEnd.IsEmpty)
        {
            create.RangeEnd = KeyRange.Bytes(options.RangeEnd);
        }

        if (options.NoPut)
        {
            create.Filters.Add(WatchCreateRequest.Types.FilterType.Noput);
        }

        if (options.NoDelete)
        {
            create.Filters.Add(WatchCreateRequest.Types.FilterType.Nodelete);
        }

        return create;
    }

    /// <summary>The error a cancelled watch ends with: compaction, future revision, or the server's reason
    /// (auth failures arrive as the full gRPC error text).</summary>
    public static EtcdException CancelError(WatchResponse response)
    {
        if (response.CompactRevision != 0)
        {
            return new EtcdCompactedException(
                $"etcdserver: mvcc: required revision has been compacted (compact revision {response.CompactRevision})", response.CompactRevision);
        }

        var reason = response.CancelReason;
        if (string.IsNullOrEmpty(reason))
        {
            return new EtcdFutureRevisionException("etcdserver: mvcc: required revision is a future revision");
        }

        // Auth failures arrive as the full gRPC error text: "rpc error: code = X desc = etcdserver: ...".
        const string Desc = " desc = ";
        var at = reason.IndexOf(Desc, StringComparison.Ordinal);
        var message = reason.StartsWith("rpc error:", StringComparison.Ordinal) && at >= 0 ? reason[(at + Desc.Length)..] : reason;
        return ErrorMapper.Map(new RpcException(new Status(StatusCode.FailedPrecondition, message)));
    }
}
