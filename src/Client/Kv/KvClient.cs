using Coordination.Client.Transport;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Client.Kv;

/// <summary>The KV service over the <see cref="CallRunner"/>.</summary>
internal sealed class KvClient(CallRunner runner) : IKvClient
{
    public Task<RangeResult> RangeAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> rangeEnd, RangeOptions? options = null, CancellationToken cancellationToken = default) =>
        RangeAsync(Request(KeyRange.Bytes(key), KeyRange.Bytes(rangeEnd), options), cancellationToken);

    public async Task<KeyValue?> GetAsync(ReadOnlyMemory<byte> key, RangeOptions? options = null, CancellationToken cancellationToken = default)
    {
        var result = await RangeAsync(Request(KeyRange.Bytes(key), ByteString.Empty, options), cancellationToken).ConfigureAwait(false);
        return result.Kvs.Count > 0 ? result.Kvs[0] : null;
    }

    public Task<RangeResult> GetPrefixAsync(ReadOnlyMemory<byte> prefix, RangeOptions? options = null, CancellationToken cancellationToken = default) =>
        RangeAsync(Request(KeyRange.Bytes(prefix), ByteString.CopyFrom(KeyRange.PrefixEnd(prefix.Span)), options), cancellationToken);

    public async Task<PutResult> PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, PutOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = new PutRequest
        {
            Key = KeyRange.Bytes(key),
            Value = KeyRange.Bytes(value),
            Lease = options?.Lease ?? 0,
            PrevKv = options?.PrevKv ?? false,
            IgnoreValue = options?.IgnoreValue ?? false,
            IgnoreLease = options?.IgnoreLease ?? false,
        };
        var response = await runner.UnaryAsync("KV/Put", CallKind.NonRepeatable,
            (invoker, o) => new KV.KVClient(invoker).PutAsync(request, o), cancellationToken).ConfigureAwait(false);
        return PutResult.From(response);
    }

    public Task<DeleteResult> DeleteAsync(ReadOnlyMemory<byte> key, DeleteOptions? options = null, CancellationToken cancellationToken = default) =>
        DeleteAsync(KeyRange.Bytes(key), ByteString.Empty, options, cancellationToken);

    public Task<DeleteResult> DeleteRangeAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> rangeEnd, DeleteOptions? options = null, CancellationToken cancellationToken = default) =>
        DeleteAsync(KeyRange.Bytes(key), KeyRange.Bytes(rangeEnd), options, cancellationToken);

    public Task<DeleteResult> DeletePrefixAsync(ReadOnlyMemory<byte> prefix, DeleteOptions? options = null, CancellationToken cancellationToken = default) =>
        DeleteAsync(KeyRange.Bytes(prefix), ByteString.CopyFrom(KeyRange.PrefixEnd(prefix.Span)), options, cancellationToken);

    public async Task<ResponseHeader> CompactAsync(long revision, bool physical = false, CancellationToken cancellationToken = default)
    {
        var request = new CompactionRequest { Revision = revision, Physical = physical };
        var response = await runner.UnaryAsync("KV/Compact", CallKind.NonRepeatable,
            (invoker, o) => new KV.KVClient(invoker).CompactAsync(request, o), cancellationToken).ConfigureAwait(false);
        return ResponseHeader.From(response.Header);
    }

    public Txn Txn() => new(this);

    public async Task<TxnResult> CommitAsync(Txn txn, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(txn);
        var request = txn.ToRequest();
        var kind = Kv.Txn.IsReadOnly(request) ? CallKind.Repeatable : CallKind.NonRepeatable;
        var response = await runner.UnaryAsync("KV/Txn", kind,
            (invoker, o) => new KV.KVClient(invoker).TxnAsync(request, o), cancellationToken).ConfigureAwait(false);
        return TxnResult.From(response);
    }

    private async Task<RangeResult> RangeAsync(RangeRequest request, CancellationToken cancellationToken)
    {
        var response = await runner.UnaryAsync("KV/Range", CallKind.Repeatable,
            (invoker, o) => new KV.KVClient(invoker).RangeAsync(request, o), cancellationToken).ConfigureAwait(false);
        return RangeResult.From(response);
    }

    private async Task<DeleteResult> DeleteAsync(ByteString key, ByteString rangeEnd, DeleteOptions? options, CancellationToken cancellationToken)
    {
        var request = new DeleteRangeRequest { Key = key, RangeEnd = rangeEnd, PrevKv = options?.PrevKv ?? false };
        var response = await runner.UnaryAsync("KV/DeleteRange", CallKind.NonRepeatable,
            (invoker, o) => new KV.KVClient(invoker).DeleteRangeAsync(request, o), cancellationToken).ConfigureAwait(false);
        return DeleteResult.From(response);
    }

    private static RangeRequest Request(ByteString key, ByteString rangeEnd, RangeOptions? options) => new()
    {
        Key = key,
        RangeEnd = rangeEnd,
        Limit = options?.Limit ?? 0,
        Revision = options?.Revision ?? 0,
        Serializable = options?.Serializable ?? false,
        KeysOnly = options?.KeysOnly ?? false,
        CountOnly = options?.CountOnly ?? false,
        SortOrder = (RangeRequest.Types.SortOrder)(options?.SortOrder ?? SortOrder.None),
        SortTarget = (RangeRequest.Types.SortTarget)(options?.SortTarget ?? SortTarget.Key),
    };
}
