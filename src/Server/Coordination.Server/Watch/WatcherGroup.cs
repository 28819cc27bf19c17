using Google.Protobuf;

namespace Coordination.Server.Watch;

/// <summary>
/// A set of watchers indexed for matching a changed key: single-key watchers in a dictionary by
/// key, range watchers in a list scanned per key (etcd's watcherGroup uses an interval tree for the
/// latter; ranges are the rarer kind here).
/// </summary>
internal sealed class WatcherGroup
{
    private readonly Dictionary<ByteString, object> _byKey = [];
    private readonly HashSet<Watcher> _ranges = new(ReferenceEqualityComparer.Instance);

    /// <summary>Number of watchers in the group.</summary>
    public int Count { get; private set; }

    /// <summary>Adds a watcher (must not be in the group).</summary>
    public void Add(Watcher watcher)
    {
        Count++;
        if (!watcher.Range.IsSingleKey)
        {
            _ranges.Add(watcher);
            return;
        }

        ByteString key = watcher.Range.Start;
        if (!_byKey.TryGetValue(key, out object? existing))
        {
            _byKey[key] = watcher;
        }
        else if (existing is List<Watcher> list)
        {
            list.Add(watcher);
        }
        else
        {
            _byKey[key] = new List<Watcher> { (Watcher)existing, watcher };
        }
    }

    /// <summary>Removes a watcher; returns false when it was not in the group.</summary>
    public bool Remove(Watcher watcher)
    {
        bool removed;
        if (!watcher.Range.IsSingleKey)
        {
            removed = _ranges.Remove(watcher);
        }
        else
        {
            ByteString key = watcher.Range.Start;
            removed = false;
            if (_byKey.TryGetValue(key, out object? existing))
            {
                if (ReferenceEquals(existing, watcher))
                {
                    _byKey.Remove(key);
                    removed = true;
                }
                else if (existing is List<Watcher> list && list.Remove(watcher))
                {
                    removed = true;
                    if (list.Count == 1)
                    {
                        _byKey[key] = list[0];
                    }
                }
            }
        }

        if (removed)
        {
            Count--;
        }

        return removed;
    }

    /// <summary>Adds every watcher whose range holds <paramref name="key"/> to <paramref name="into"/>.</summary>
    public void CollectMatches(ByteString key, List<Watcher> into)
    {
        if (_byKey.TryGetValue(key, out object? found))
        {
            if (found is Watcher single)
            {
                into.Add(single);
            }
            else
            {
                into.AddRange((List<Watcher>)found);
            }
        }

        foreach (Watcher watcher in _ranges)
        {
            if (watcher.Range.Contains(key))
            {
                into.Add(watcher);
            }
        }
    }
}
