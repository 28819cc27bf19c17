using Google.Protobuf;

namespace Coordination.Server.Watch;

/// <summary>
/// A set of watchers indexed for matching a changed key: single-key watchers by key; range
/// watchers by their exact (start, end) interval, so many watchers of the same prefix cost one
/// containment test per changed key (etcd's watcherGroup uses an interval tree for ranges; here
/// the distinct intervals are scanned).
/// </summary>
internal sealed class WatcherGroup
{
    private readonly Dictionary<ByteString, object> _byKey = [];
    private readonly Dictionary<(ByteString Start, ByteString? End), object> _byRange = [];

    /// <summary>Number of watchers in the group.</summary>
    public int Count { get; private set; }

    /// <summary>Adds a watcher (must not be in the group).</summary>
    public void Add(Watcher watcher)
    {
        Count++;
        if (watcher.Range.IsSingleKey)
        {
            AddTo(_byKey, watcher.Range.Start, watcher);
        }
        else
        {
            AddTo(_byRange, (watcher.Range.Start, watcher.Range.End), watcher);
        }
    }

    /// <summary>Removes a watcher; returns false when it was not in the group.</summary>
    public bool Remove(Watcher watcher)
    {
        bool removed = watcher.Range.IsSingleKey
            ? RemoveFrom(_byKey, watcher.Range.Start, watcher)
            : RemoveFrom(_byRange, (watcher.Range.Start, watcher.Range.End), watcher);
        if (removed)
        {
            Count--;
        }

        return removed;
    }

    /// <summary>Every watcher in the group (a copy).</summary>
    public List<Watcher> All()
    {
        var all = new List<Watcher>(Count);
        foreach (object entry in _byKey.Values.Concat(_byRange.Values))
        {
            AddAll(entry, all);
        }

        return all;
    }

    /// <summary>Adds every watcher whose range holds <paramref name="key"/> to <paramref name="into"/>.</summary>
    public void CollectMatches(ByteString key, List<Watcher> into)
    {
        if (_byKey.TryGetValue(key, out object? found))
        {
            AddAll(found, into);
        }

        foreach (object watchers in _byRange.Values)
        {
            Watcher first = watchers as Watcher ?? ((List<Watcher>)watchers)[0];
            if (first.Range.Contains(key))
            {
                AddAll(watchers, into);
            }
        }
    }

    // A slot holds one watcher, or a list when several share the key or interval.
    private static void AddTo<TKey>(Dictionary<TKey, object> slots, TKey key, Watcher watcher)
        where TKey : notnull
    {
        if (!slots.TryGetValue(key, out object? existing))
        {
            slots[key] = watcher;
        }
        else if (existing is List<Watcher> list)
        {
            list.Add(watcher);
        }
        else
        {
            slots[key] = new List<Watcher> { (Watcher)existing, watcher };
        }
    }

    private static bool RemoveFrom<TKey>(Dictionary<TKey, object> slots, TKey key, Watcher watcher)
        where TKey : notnull
    {
        if (!slots.TryGetValue(key, out object? existing))
        {
            return false;
        }

        if (ReferenceEquals(existing, watcher))
        {
            slots.Remove(key);
            return true;
        }

        if (existing is not List<Watcher> list || !list.Remove(watcher))
        {
            return false;
        }

        if (list.Count == 1)
        {
            slots[key] = list[0];
        }

        return true;
    }

    private static void AddAll(object watchers, List<Watcher> into)
    {
        if (watchers is Watcher single)
        {
            into.Add(single);
        }
        else
        {
            into.AddRange((List<Watcher>)watchers);
        }
    }
}
