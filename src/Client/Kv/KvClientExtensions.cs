using Coordination.Client.Kv;

namespace Coordination.Client;

/// <summary>UTF-8 string overloads of <see cref="IKvClient"/>.</summary>
public static class KvClientExtensions
{
    /// <summary>Reads one key; null when it does not exist.</summary>
    public static Task<KeyValue?> GetAsync(this IKvClient kv, string key, RangeOptions? options = null, CancellationToken cancellationToken = default) =>
        kv.GetAsync(KeyRange.Utf8Bytes(key), options, cancellationToken);

    /// <summary>Reads one key's value as text; null when the key does not exist.</summary>
    public static async Task<string?> GetStringAsync(this IKvClient kv, string key, CancellationToken cancellationToken = default) =>
        (await kv.GetAsync(KeyRange.Utf8Bytes(key), null, cancellationToken).ConfigureAwait(false))?.ValueString;

    /// <summary>Reads every key starting with <paramref name="prefix"/>.</summary>
    public static Task<RangeResult> GetPrefixAsync(this IKvClient kv, string prefix, RangeOptions? options = null, CancellationToken cancellationToken = default) =>
        kv.GetPrefixAsync(KeyRange.Utf8Bytes(prefix), options, cancellationToken);

    /// <summary>Reads the keys in [<paramref name="key"/>, <paramref name="rangeEnd"/>).</summary>
    public static Task<RangeResult> RangeAsync(this IKvClient kv, string key, string rangeEnd, RangeOptions? options = null, CancellationToken cancellationToken = default) =>
        kv.RangeAsync(KeyRange.Utf8Bytes(key), KeyRange.Utf8Bytes(rangeEnd), options, cancellationToken);

    /// <summary>Writes <paramref name="value"/> at <paramref name="key"/>.</summary>
    public static Task<PutResult> PutAsync(this IKvClient kv, string key, string value, PutOptions? options = null, CancellationToken cancellationToken = default) =>
        kv.PutAsync(KeyRange.Utf8Bytes(key), KeyRange.Utf8Bytes(value), options, cancellationToken);

    /// <summary>Deletes one key.</summary>
    public static Task<DeleteResult> DeleteAsync(this IKvClient kv, string key, DeleteOptions? options = null, CancellationToken cancellationToken = default) =>
        kv.DeleteAsync(KeyRange.Utf8Bytes(key), options, cancellationToken);

    /// <summary>Deletes every key starting with <paramref name="prefix"/>.</summary>
    public static Task<DeleteResult> DeletePrefixAsync(this IKvClient kv, string prefix, DeleteOptions? options = null, CancellationToken cancellationToken = default) =>
        kv.DeletePrefixAsync(KeyRange.Utf8Bytes(prefix), options, cancellationToken);
}
