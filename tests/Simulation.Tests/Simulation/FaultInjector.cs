using Coordination.Raft.Protocol;

namespace Coordination.Simulation.Tests.Simulation;

/// <summary>
/// Draws faults: partitions (symmetric, one-way, leader isolation), lossy links, crashes of one
/// member or of all at once (power loss), clock jumps, flapping links, membership changes (remove
/// a member, the leader included; add it back, sometimes as a learner first), leadership transfers,
/// and wrong reports that a running leader is down (its port refused a connection by mistake).
/// Each fault undoes itself after a while; the heal at the end undoes whatever is left.
/// </summary>
public sealed class FaultInjector(Simulator sim, Random random)
{
    private IReadOnlyList<SimMember> Members => sim.Members;

    /// <summary>Injects one randomly chosen fault.</summary>
    public void InjectOne()
    {
        var roll = random.Next(100);
        var duration = 500 + random.NextInt64(6_000);
        switch (roll)
        {
            case < 15: SymmetricPartition(duration); break;
            case < 25: OneWayCut(duration); break;
            case < 35: IsolateLeader(duration); break;
            case < 45: Lossy(duration); break;
            case < 63: CrashOne(duration); break;
            case < 67: CrashAll(); break;
            case < 77: ClockJump(); break;
            case < 85: Flap(duration); break;
            case < 93: MembershipChange(); break;
            case < 97: TransferLeadership(); break;
            default: WrongLeaderDownReport(); break;
        }
    }

    private void SymmetricPartition(long duration)
    {
        var shuffled = Members.Select(m => m.Id).OrderBy(_ => random.Next()).ToList();
        var cut = 1 + random.Next(shuffled.Count - 1);
        var a = shuffled.Take(cut).ToList();
        var b = shuffled.Skip(cut).ToList();
        sim.Log($"partition [{string.Join(",", a)}] | [{string.Join(",", b)}] for {duration}ms");
        sim.Network.Partition(a, b);
        sim.Queue.After(duration, () => ForEachPair(a, b, (x, y) => { sim.Network.Mend(x, y); sim.Network.Mend(y, x); }));
    }

    private void OneWayCut(long duration)
    {
        // One member can send but not receive (or the reverse).
        var victim = Members[random.Next(Members.Count)].Id;
        var inbound = random.Next(2) == 0;
        var others = Members.Select(m => m.Id).Where(id => id != victim).ToList();
        sim.Log($"one-way cut: {victim} {(inbound ? "hears nothing" : "is not heard")} for {duration}ms");
        foreach (var o in others)
        {
            if (inbound) sim.Network.Cut(o, victim); else sim.Network.Cut(victim, o);
        }
        sim.Queue.After(duration, () =>
        {
            foreach (var o in others)
            {
                if (inbound) sim.Network.Mend(o, victim); else sim.Network.Mend(victim, o);
            }
        });
    }

    private void IsolateLeader(long duration)
    {
        var leader = sim.Leader;
        if (leader is null) return;
        var others = Members.Select(m => m.Id).Where(id => id != leader.Id).ToList();
        sim.Log($"isolate leader {leader.Id} for {duration}ms");
        sim.Network.Partition([leader.Id], others);
        sim.Queue.After(duration, () => ForEachPair([leader.Id], others, (x, y) => { sim.Network.Mend(x, y); sim.Network.Mend(y, x); }));
    }

    private void Lossy(long duration)
    {
        var rate = 0.05 + random.NextDouble() * 0.3;
        sim.Log($"loss rate {rate:F2} for {duration}ms");
        sim.Network.LossRate = rate;
        sim.Queue.After(duration, () => sim.Network.LossRate = 0);
    }

    private void CrashOne(long duration)
    {
        var victim = random.Next(3) == 0 && sim.Leader is { } l ? l : Members[random.Next(Members.Count)];
        victim.Crash();
        sim.Queue.After(Math.Min(duration, 4_000), victim.Restart);
    }

    private void CrashAll() => sim.PowerLoss();

    private void ClockJump()
    {
        // A member's clock leaps forward (or it was paused and catches up): a burst of ticks at once.
        var victim = Members[random.Next(Members.Count)];
        var ticks = 3 + random.Next(20);
        sim.Log($"clock jump: {victim.Id} ticks {ticks} times at once");
        for (var i = 0; i < ticks; i++) victim.Tick();
    }

    private void Flap(long duration)
    {
        // One member's links go down and up every few hundred milliseconds.
        var victim = Members[random.Next(Members.Count)].Id;
        var others = Members.Select(m => m.Id).Where(id => id != victim).ToList();
        var period = 100 + random.Next(400);
        sim.Log($"flapping: {victim} every {period}ms for {duration}ms");
        for (long t = 0; t < duration; t += period)
        {
            var down = (t / period) % 2 == 0;
            sim.Queue.After(t, () => ForEachPair([victim], others, (x, y) =>
            {
                if (down) { sim.Network.Cut(x, y); sim.Network.Cut(y, x); }
                else { sim.Network.Mend(x, y); sim.Network.Mend(y, x); }
            }));
        }
        sim.Queue.After(duration, () => ForEachPair([victim], others, (x, y) => { sim.Network.Mend(x, y); sim.Network.Mend(y, x); }));
    }

    private void MembershipChange()
    {
        // One member at a time: with everyone a voter, remove one (the leader too, sometimes);
        // otherwise add the missing one back, as a learner first half of the time.
        var leader = sim.Leader;
        if (leader?.Node is null) return;
        var conf = leader.Node.ConfState;
        if (conf.Voters.Count == Members.Count)
        {
            var victim = Members[random.Next(Members.Count)].Id;
            sim.Log($"propose removal of {victim} on {leader.Id}");
            leader.ProposeConfChange(new ConfChange { Type = ConfChangeType.ConfChangeRemoveNode, NodeId = victim });
            return;
        }
        var missing = Members.Select(m => m.Id).First(id => !conf.Voters.Contains(id));
        var asLearner = !conf.Learners.Contains(missing) && random.Next(2) == 0;
        sim.Log($"propose adding {missing} as {(asLearner ? "learner" : "voter")} on {leader.Id}");
        leader.ProposeConfChange(new ConfChange
        {
            Type = asLearner ? ConfChangeType.ConfChangeAddLearnerNode : ConfChangeType.ConfChangeAddNode,
            NodeId = missing,
        });
    }

    private void TransferLeadership()
    {
        var leader = sim.Leader;
        if (leader?.Node is null) return;
        var target = Members[random.Next(Members.Count)];
        sim.Log($"transfer leadership {leader.Id} -> {target.Id}");
        leader.TransferLeader(target.Id);
    }

    private void WrongLeaderDownReport()
    {
        // To one follower or to all of them: a report is only a hint, votes still decide.
        var leader = sim.Leader;
        if (leader is null) return;
        var followers = Members.Where(m => m != leader && m.IsUp).ToList();
        if (followers.Count == 0) return;
        var told = random.Next(2) == 0 ? followers : [followers[random.Next(followers.Count)]];
        sim.Log($"wrong report: leader {leader.Id} is down, told to {string.Join(",", told.Select(m => m.Id))}");
        foreach (var m in told) m.ReportPeerDown(leader.Id);
    }

    private static void ForEachPair(IReadOnlyList<ulong> a, IReadOnlyList<ulong> b, Action<ulong, ulong> action)
    {
        foreach (var x in a) foreach (var y in b) action(x, y);
    }
}
