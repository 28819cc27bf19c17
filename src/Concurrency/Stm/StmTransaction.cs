using Coordination.Client;
using Coordination.Client.Kv;

namespace Coordination.Concurrency.Stm;

/// <summary>One attempt of an STM transaction: its read set, write set and snapshot revision.</summary>
internal sealed class StmTransaction(IKvClient kv, StmIsolation isolation) : IStm
{
    private readonly Dictionary<string, KeyValue?> _reads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PendingWrite> _writes = new(StringComparer.Ordinal);

    /// <summary>The revision of the first read (0 before it): the snapshot of the serializable levels.</summary>
    public long SnapshotRevision { get; private set; }

    private bool UsesSnapshot => isolation is StmIsolation.SerializableSnapshot or StmIsolation.Serializable;

    private bool CachesReads => isolation != StmIsolation.ReadCommitted;

    public async Task PrefetchAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0 || !CachesReads)
        {
            return;
        }

        var result = await kv.Txn().Then([.. keys.Select(k => TxnOp.Get(k))]).CommitAsync(cancellationToken).ConfigureAwait(false);
        SnapshotRevision = result.Header.Revision;
        for (var i = 0; i < keys.Count; i++)
        {
            var found = result.Results[i].Range!.Kvs;
            _reads[keys[i]] = found.Count == 0 ? null : found[0];
        }
    }

    public async Task<string?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        if (_writes.TryGetValue(key, out var write))
        {
            return write.Value;
        }

        return (await ReadAsync(key, cancellationToken).ConfigureAwait(false))?.ValueString;
    }

    public async Task<long> GetModRevisionAsync(string key, CancellationToken cancellationToken = default) =>
        (await ReadAsync(key, cancellationToken).ConfigureAwait(false))?.ModRevision ?? 0;

    public void Put(string key, string value, long lease = 0)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        _writes[key] = new PendingWrite(value, lease);
    }

    public void Delete(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _writes[key] = new PendingWrite(null, 0);
    }

    /// <summary>The commit: the isolation level's conflict checks, then every buffered write.</summary>
    public Txn BuildCommit()
    {
        var txn = kv.Txn();
        if (isolation != StmIsolation.ReadCommitted)
        {
            // Every key read must still be as we read it.
            txn.If([.. _reads.Select(r => Compare.ModRevision(r.Key).Equal(r.Value?.ModRevision ?? 0))]);
        }

        if (isolation == StmIsolation.SerializableSnapshot && SnapshotRevision > 0)
        {
            // Blind writes too: no key we write may have changed after our snapshot.
            txn.If([.. _writes.Keys.Where(k => !_reads.ContainsKey(k)).Select(k => Compare.ModRevision(k).Less(SnapshotRevision + 1))]);
        }

        txn.Then([.. _writes.Select(w => w.Value.Value is null ? TxnOp.Delete(w.Key) : TxnOp.Put(w.Key, w.Value.Value, w.Value.Lease))]);
        return txn;
    }

    private async Task<KeyValue?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (CachesReads && _reads.TryGetValue(key, out var cached))
        {
            return cached;
        }

        var options = UsesSnapshot && SnapshotRevision > 0 ? new RangeOptions { Revision = SnapshotRevision } : null;
        var range = await kv.RangeAsync(System.Text.Encoding.UTF8.GetBytes(key), ReadOnlyMemory<byte>.Empty, options, cancellationToken).ConfigureAwait(false);
        if (SnapshotRevision == 0)
        {
            SnapshotRevision = range.Header.Revision;
        }

        var found = range.Kvs.Count == 0 ? null : range.Kvs[0];
        if (CachesReads)
        {
            _reads[key] = found;
        }

        return found;
    }

    private readonly record struct PendingWrite(string? Value, long Lease);
}
