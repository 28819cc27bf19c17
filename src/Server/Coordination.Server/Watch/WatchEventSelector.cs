using Google.Protobuf.Collections;
using Mvccpb;

namespace Coordination.Server.Watch;

/// <summary>Applies a watcher's filters and prev_kv option to store events.</summary>
internal static class WatchEventSelector
{
    /// <summary>
    /// The event as <paramref name="watcher"/> should see it: null when filtered out; the shared
    /// event itself when no previous value is to be attached; otherwise a copy carrying it.
    /// </summary>
    public static Event? Select(Watcher watcher, Event change, Mvccpb.KeyValue? previous)
    {
        bool isPut = change.Type == Event.Types.EventType.Put;
        if (isPut ? watcher.Has(WatcherOptions.NoPut) : watcher.Has(WatcherOptions.NoDelete))
        {
            return null;
        }

        if (!watcher.Has(WatcherOptions.PrevKv) || previous is null)
        {
            return change;
        }

        return new Event { Type = change.Type, Kv = change.Kv, PrevKv = previous };
    }

    /// <summary>Groups consecutive events by mod_revision (one list per revision, in order).</summary>
    public static IEnumerable<IReadOnlyList<Event>> SplitByRevision(RepeatedField<Event> events)
    {
        int start = 0;
        while (start < events.Count)
        {
            long revision = events[start].Kv.ModRevision;
            int end = start + 1;
            while (end < events.Count && events[end].Kv.ModRevision == revision)
            {
                end++;
            }

            var group = new Event[end - start];
            for (int i = start; i < end; i++)
            {
                group[i - start] = events[i];
            }

            yield return group;
            start = end;
        }
    }
}
