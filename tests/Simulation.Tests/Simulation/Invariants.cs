using Coordination.Raft;

namespace Coordination.Simulation.Tests.Simulation;

/// <summary>
/// The safety properties checked while a simulation runs: at most one leader per term, leader
/// completeness (a new leader holds every entry any member applied), state-machine safety (equal
/// state hashes at equal applied indexes) and log matching (two logs that agree on an entry's term
/// agree on everything before it). Each violation is recorded with the time it was seen.
/// </summary>
public sealed class Invariants(Simulator sim)
{
    private readonly Dictionary<ulong, ulong> _leaderOfTerm = new();
    private readonly Dictionary<ulong, (ulong Hash, ulong Member)> _hashAtIndex = new();
    private readonly Dictionary<ulong, ulong> _appliedTerm = new();

    private readonly Dictionary<string, int> _perKind = new(StringComparer.Ordinal);

    /// <summary>Violations found so far.</summary>
    public List<string> Violations { get; } = new();

    /// <summary>The highest index any member applied.</summary>
    public ulong MaxApplied { get; private set; }

    /// <summary>When each term's leader was first seen leading, in order.</summary>
    public List<(long At, ulong Term, ulong Leader)> LeaderTerms { get; } = new();

    /// <summary>Number of distinct leaders elected (one per term).</summary>
    public int Elections => _leaderOfTerm.Count;

    internal void OnApplied(SimMember member, ulong index, ulong hash)
    {
        if (_hashAtIndex.TryGetValue(index, out var seen))
        {
            if (seen.Hash != hash)
                Fail($"state-machine safety: member {member.Id} has state hash {hash:x} at applied index {index}, member {seen.Member} had {seen.Hash:x}");
        }
        else
        {
            _hashAtIndex[index] = (hash, member.Id);
        }
        if (member.Node?.TryGetTerm(index, out var term) == true) _appliedTerm.TryAdd(index, term);
        MaxApplied = Math.Max(MaxApplied, index);
    }

    internal void OnLeader(SimMember member)
    {
        var node = member.Node!;
        if (_leaderOfTerm.TryGetValue(node.Term, out var other) && other != member.Id)
            Fail($"election safety: members {other} and {member.Id} both led term {node.Term}");
        if (_leaderOfTerm.TryAdd(node.Term, member.Id)) LeaderTerms.Add((sim.Queue.Now, node.Term, member.Id));
        sim.Log($"{member.Id} leads term {node.Term} (last index {node.LastIndex})");

        // Leader completeness: every entry applied anywhere must be in the new leader's log.
        if (MaxApplied > node.LastIndex)
        {
            Fail($"leader completeness: leader {member.Id} of term {node.Term} has last index {node.LastIndex} but index {MaxApplied} was applied");
            return;
        }
        for (var i = Math.Max(node.FirstIndexInMemory, 1); i <= MaxApplied; i++)
        {
            if (_appliedTerm.TryGetValue(i, out var appliedTerm) && node.TryGetTerm(i, out var t) && t != appliedTerm)
            {
                Fail($"leader completeness: leader {member.Id} of term {node.Term} has term {t} at index {i}, but term {appliedTerm} was applied there");
                return;
            }
        }
    }

    /// <summary>Log matching across every pair of running members, on the entries they hold in memory.</summary>
    internal void CheckLogMatching(IReadOnlyList<SimMember> members)
    {
        var up = members.Where(m => m.IsUp).ToList();
        for (var a = 0; a < up.Count; a++)
        {
            for (var b = a + 1; b < up.Count; b++)
            {
                var x = up[a].Node!;
                var y = up[b].Node!;
                var lo = Math.Max(x.FirstIndexInMemory, y.FirstIndexInMemory);
                var hi = Math.Min(x.LastIndex, y.LastIndex);
                var agreed = false;
                for (var i = hi; i >= lo && i > 0; i--)
                {
                    var ex = x.EntryAt(i)!;
                    var ey = y.EntryAt(i)!;
                    if (ex.Term == ey.Term)
                    {
                        agreed = true;
                        if (!ex.Data.Equals(ey.Data) || ex.Type != ey.Type)
                        {
                            Fail($"log matching: members {up[a].Id} and {up[b].Id} hold different entries at index {i} of term {ex.Term}");
                            return;
                        }
                    }
                    else if (agreed)
                    {
                        Fail($"log matching: members {up[a].Id} and {up[b].Id} agree at a later index but differ at index {i} (terms {ex.Term} vs {ey.Term})");
                        return;
                    }
                }
            }
        }
    }

    internal void Fail(string violation)
    {
        // A few of each kind: one broken run can repeat the same violation thousands of times.
        var kind = violation.Split(':')[0];
        if (!_perKind.TryGetValue(kind, out var n) || n < 3) Violations.Add($"t={sim.Queue.Now}ms: {violation}");
        _perKind[kind] = n + 1;
        sim.Log("VIOLATION " + violation);
    }
}
