using Coordination.Client.Kv;
using Coordination.Client.Watch;

namespace Coordination.Client;

/// <summary>UTF-8 string overloads of <see cref="IWatchClient"/>.</summary>
public static class WatchClientExtensions
{
    /// <summary>Creates a watch on one key.</summary>
    public static Task<IWatchSubscription> WatchAsync(this IWatchClient watch, string key, WatchOptions? options = null, CancellationToken cancellationToken = default) =>
        watch.WatchAsync(KeyRange.Utf8Bytes(key), options, cancellationToken);

    /// <summary>Creates a watch on every key starting with <paramref name="prefix"/>.</summary>
    public static Task<IWatchSubscription> WatchPrefixAsync(this IWatchClient watch, string prefix, WatchOptions? options = null, CancellationToken cancellationToken = default) =>
        watch.WatchAsync(KeyRange.Utf8Bytes(prefix), (options ?? new WatchOptions()) with { Prefix = true }, cancellationToken);
}
