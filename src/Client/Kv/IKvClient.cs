namespace Coordination.Client.Kv;

/// <summary>
/// Keys and values. Reads are retried on other endpoints after transport failures; writes (put,
/// delete, transaction, compaction) are never repeated after the request was sent; an ambiguous
/// failure throws <see cref="EtcdOutcomeUnknownException"/>. String overloads (UTF-8) are in
/// <see cref="KvClientExtensions"/>.
/// </summary>
public interface IKvClient
{
    /// <summary>Reads the keys in [<paramref name="key"/>, <paramref name="rangeEnd"/>); an empty end reads only the key, a zero byte every key from it.</summary>
    Task<RangeResult> RangeAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> rangeEnd, RangeOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Reads one key; null when it does not exist.</summary>
    Task<KeyValue?> GetAsync(ReadOnlyMemory<byte> key, RangeOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Reads every key starting with <paramref name="prefix"/>.</summary>
    Task<RangeResult> GetPrefixAsync(ReadOnlyMemory<byte> prefix, RangeOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Writes <paramref name="value"/> at <paramref name="key"/>.</summary>
    Task<PutResult> PutAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> value, PutOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes one key.</summary>
    Task<DeleteResult> DeleteAsync(ReadOnlyMemory<byte> key, DeleteOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes the keys in [<paramref name="key"/>, <paramref name="rangeEnd"/>).</summary>
    Task<DeleteResult> DeleteRangeAsync(ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> rangeEnd, DeleteOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes every key starting with <paramref name="prefix"/>.</summary>
    Task<DeleteResult> DeletePrefixAsync(ReadOnlyMemory<byte> prefix, DeleteOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Discards the history before <paramref name="revision"/>; with <paramref name="physical"/> waits until the space is reclaimed.</summary>
    Task<ResponseHeader> CompactAsync(long revision, bool physical = false, CancellationToken cancellationToken = default);

    /// <summary>Starts a transaction bound to this client: <c>kv.Txn().If(...).Then(...).Else(...).CommitAsync()</c>.</summary>
    Txn Txn();

    /// <summary>Sends a transaction.</summary>
    Task<TxnResult> CommitAsync(Txn txn, CancellationToken cancellationToken = default);
}
