using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Client.Kv;

/// <summary>An operation of a transaction branch: put, get, delete, or a nested transaction.</summary>
public sealed class TxnOp
{
    private TxnOp(RequestOp proto) => Proto = proto;

    internal RequestOp Proto { get; }

    /// <summary>Put <paramref name="value"/> at <paramref name="key"/> (UTF-8).</summary>
    public static TxnOp Put(string key, string value, long lease = 0, bool prevKv = false) =>
        Put(KeyRange.Utf8(key), KeyRange.Utf8(value), lease, prevKv);

    /// <summary>Put <paramref name="value"/> at <paramref name="key"/>.</summary>
    public static TxnOp Put(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, long lease = 0, bool prevKv = false) =>
        Put(KeyRange.Bytes(key), KeyRange.Bytes(value), lease, prevKv);

    /// <summary>Read <paramref name="key"/>.</summary>
    public static TxnOp Get(string key) => Range(KeyRange.Utf8(key), ByteString.Empty);

    /// <summary>Read <paramref name="key"/>.</summary>
    public static TxnOp Get(ReadOnlyMemory<byte> key) => Range(KeyRange.Bytes(key), ByteString.Empty);

    /// <summary>Read every key starting with <paramref name="prefix"/>.</summary>
    public static TxnOp GetPrefix(string prefix) => Range(KeyRange.Utf8(prefix), ByteString.CopyFrom(KeyRange.PrefixEnd(KeyRange.Utf8Bytes(prefix))));

    /// <summary>Read the keys in [<paramref name="key"/>, <paramref name="rangeEnd"/>).</summary>
    public static TxnOp Range(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> rangeEnd) => Range(KeyRange.Bytes(key), KeyRange.Bytes(rangeEnd));

    /// <summary>Delete <paramref name="key"/>.</summary>
    public static TxnOp Delete(string key, bool prevKv = false) => Delete(KeyRange.Utf8(key), ByteString.Empty, prevKv);

    /// <summary>Delete <paramref name="key"/>.</summary>
    public static TxnOp Delete(ReadOnlyMemory<byte> key, bool prevKv = false) => Delete(KeyRange.Bytes(key), ByteString.Empty, prevKv);

    /// <summary>Delete every key starting with <paramref name="prefix"/>.</summary>
    public static TxnOp DeletePrefix(string prefix, bool prevKv = false) =>
        Delete(KeyRange.Utf8(prefix), ByteString.CopyFrom(KeyRange.PrefixEnd(KeyRange.Utf8Bytes(prefix))), prevKv);

    /// <summary>A nested transaction (etcd 3.3+), evaluated at the same revision as the outer one.</summary>
    public static TxnOp Nested(Txn txn)
    {
        ArgumentNullException.ThrowIfNull(txn);
        return new(new RequestOp { RequestTxn = txn.ToRequest() });
    }

    private static TxnOp Put(ByteString key, ByteString value, long lease, bool prevKv) =>
        new(new RequestOp { RequestPut = new PutRequest { Key = key, Value = value, Lease = lease, PrevKv = prevKv } });

    private static TxnOp Range(ByteString key, ByteString rangeEnd) =>
        new(new RequestOp { RequestRange = new RangeRequest { Key = key, RangeEnd = rangeEnd } });

    private static TxnOp Delete(ByteString key, ByteString rangeEnd, bool prevKv) =>
        new(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = key, RangeEnd = rangeEnd, PrevKv = prevKv } });
}
