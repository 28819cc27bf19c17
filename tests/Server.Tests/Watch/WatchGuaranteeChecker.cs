using Coordination.Server.Mvcc;
using Coordination.Server.Watch;
using Etcdserverpb;
using Mvccpb;

namespace Coordination.Server.Tests.Watch;

/// <summary>What one watcher asked for: its keys, first revision and options.</summary>
internal sealed record WatchSpec(long Id, KeyRange Range, long FirstRevision, bool PrevKv, bool NoPut, bool NoDelete);

/// <summary>
/// Checks what one watcher received against the store's commit log, for the guarantees etcd
/// documents: ordered (revisions never go back), unique (no revision twice), atomic (all events of
/// a revision in one response), reliable (no gap from the first revision to the end of coverage,
/// and a compaction cancel only when the watcher really needed a compacted revision), and each
/// event exactly as committed — value, versions (version 1 ⇔ a creation), prev_kv.
/// </summary>
internal static class WatchGuaranteeChecker
{
    /// <param name="log">Every commit, in order.</param>
    /// <param name="spec">The watcher.</param>
    /// <param name="responses">Its responses in arrival order (created and progress responses may be included).</param>
    /// <param name="coveredThrough">The revision through which the watcher must have everything unless canceled.</param>
    /// <param name="highestCompaction">The highest compaction during the run (prev_kv older than it may be absent).</param>
    public static List<string> Check(IReadOnlyList<MvccCommit> log, WatchSpec spec, IEnumerable<WatchResponse> responses, long coveredThrough, long highestCompaction)
    {
        var violations = new List<string>();
        SortedDictionary<long, List<(Event Event, KeyValue? Prev)>> expected = Expected(log, spec);
        var seen = new HashSet<long>();
        long last = spec.FirstRevision - 1;
        long? canceledAt = null;
        foreach (WatchResponse response in responses)
        {
            if (canceledAt is not null && (response.Events.Count > 0 || response.Canceled))
            {
                violations.Add($"watch {spec.Id}: response after its compaction cancel");
            }

            if (response.Canceled && response.CompactRevision != 0)
            {
                canceledAt = response.CompactRevision;
                continue;
            }

            int i = 0;
            while (i < response.Events.Count)
            {
                long revision = response.Events[i].Kv.ModRevision;
                var group = new List<Event>();
                while (i < response.Events.Count && response.Events[i].Kv.ModRevision == revision) group.Add(response.Events[i++]);
                if (revision <= last)
                {
                    violations.Add(seen.Contains(revision)
                        ? $"watch {spec.Id}: revision {revision} received twice or split across responses"
                        : $"watch {spec.Id}: revision {revision} out of order after {last}");
                    continue;
                }

                foreach (long missing in expected.Keys.Where(r => r > last && r < revision))
                {
                    violations.Add($"watch {spec.Id}: gap, revision {missing} missing before {revision}");
                }

                seen.Add(revision);
                last = revision;
                if (!expected.TryGetValue(revision, out var want))
                {
                    violations.Add($"watch {spec.Id}: unexpected events at revision {revision}");
                    continue;
                }

                CompareRevision(spec, revision, want, group, highestCompaction, violations);
            }
        }

        if (canceledAt is { } compact)
        {
            if (last >= compact)
            {
                violations.Add($"watch {spec.Id}: canceled for compaction at {compact} though it had delivered through {last}");
            }
        }
        else
        {
            foreach (long missing in expected.Keys.Where(r => r > last && r <= coveredThrough))
            {
                violations.Add($"watch {spec.Id}: revision {missing} never delivered (covered through {coveredThrough})");
            }
        }

        return violations;
    }

    private static void CompareRevision(WatchSpec spec, long revision, List<(Event Event, KeyValue? Prev)> want, List<Event> got, long highestCompaction, List<string> violations)
    {
        if (want.Count != got.Count)
        {
            violations.Add($"watch {spec.Id}: revision {revision} has {got.Count} events, expected {want.Count} (split or partial)");
            return;
        }

        for (int k = 0; k < want.Count; k++)
        {
            Event w = want[k].Event;
            Event g = got[k];
            if (w.Type != g.Type || !w.Kv.Equals(g.Kv))
            {
                violations.Add($"watch {spec.Id}: event {k} of revision {revision} differs: {g.Kv} vs {w.Kv}");
            }

            if (g.Type == Event.Types.EventType.Put && (g.Kv.Version == 1) != (g.Kv.CreateRevision == g.Kv.ModRevision))
            {
                violations.Add($"watch {spec.Id}: create flag wrong at revision {revision}: version {g.Kv.Version}, create {g.Kv.CreateRevision}");
            }

            KeyValue? wantPrev = spec.PrevKv ? want[k].Prev : null;
            if (wantPrev is null ? g.PrevKv is not null : g.PrevKv is null ? wantPrev.ModRevision >= highestCompaction : !wantPrev.Equals(g.PrevKv))
            {
                violations.Add($"watch {spec.Id}: prev_kv wrong at revision {revision}: {g.PrevKv} vs {wantPrev}");
            }
        }
    }

    private static SortedDictionary<long, List<(Event, KeyValue?)>> Expected(IReadOnlyList<MvccCommit> log, WatchSpec spec)
    {
        var expected = new SortedDictionary<long, List<(Event, KeyValue?)>>();
        foreach (MvccCommit commit in log)
        {
            if (commit.Revision < spec.FirstRevision) continue;
            for (int i = 0; i < commit.Events.Count; i++)
            {
                Event e = commit.Events[i];
                bool isPut = e.Type == Event.Types.EventType.Put;
                if (!spec.Range.Contains(e.Kv.Key) || (isPut && spec.NoPut) || (!isPut && spec.NoDelete)) continue;
                if (!expected.TryGetValue(commit.Revision, out var list)) expected[commit.Revision] = list = [];
                list.Add((e, commit.PreviousKvs[i]));
            }
        }

        return expected;
    }
}
