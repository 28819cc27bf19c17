using Coordination.Raft.Protocol;

namespace Coordination.Simulation.Tests.Simulation;

/// <summary>
/// The simulated network between members: each message is delayed (occasionally a lot, which
/// reorders), lost or duplicated at random, and dropped when its direction is cut. Cuts are
/// directed, so one-way partitions are possible.
/// </summary>
public sealed class SimNetwork(EventQueue queue, Random random, Func<ulong, SimMember> member, TraceHash trace)
{
    private readonly HashSet<(ulong From, ulong To)> _cut = new();

    private double _lossRate;

    /// <summary>Probability that a message is lost.</summary>
    public double LossRate
    {
        get => _lossRate;
        set => _lossRate = Sealed ? 0 : value;
    }

    /// <summary>After the final heal, faults still scheduled (the rest of a flapping period, say) no longer cut anything.</summary>
    public bool Sealed { get; private set; }

    /// <summary>Probability that a message is delivered twice.</summary>
    public double DuplicateRate { get; set; } = 0.01;

    /// <summary>Messages sent, delivered and dropped so far.</summary>
    public (long Sent, long Delivered, long Dropped) Counts => (_sent, _delivered, _dropped);

    private long _sent, _delivered, _dropped;

    /// <summary>Messages delivered, by type.</summary>
    public long[] DeliveredByType { get; } = new long[32];

    /// <summary>Cuts the direction <paramref name="from"/> → <paramref name="to"/>.</summary>
    public void Cut(ulong from, ulong to)
    {
        if (!Sealed) _cut.Add((from, to));
    }

    /// <summary>Restores the direction <paramref name="from"/> → <paramref name="to"/>.</summary>
    public void Mend(ulong from, ulong to) => _cut.Remove((from, to));

    /// <summary>Cuts both directions between every member of <paramref name="a"/> and every member of <paramref name="b"/>.</summary>
    public void Partition(IEnumerable<ulong> a, IEnumerable<ulong> b)
    {
        var right = b.ToList();
        foreach (var x in a)
        {
            foreach (var y in right)
            {
                Cut(x, y);
                Cut(y, x);
            }
        }
    }

    /// <summary>Restores every link and the loss rate; with <paramref name="seal"/>, for good.</summary>
    public void HealAll(bool seal = false)
    {
        _cut.Clear();
        LossRate = 0;
        Sealed |= seal;
    }

    /// <summary>True when <paramref name="from"/> → <paramref name="to"/> is cut.</summary>
    public bool IsCut(ulong from, ulong to) => _cut.Contains((from, to));

    /// <summary>Sends a message; it arrives later, or never.</summary>
    public void Send(Message m)
    {
        _sent++;
        if (IsCut(m.From, m.To) || random.NextDouble() < LossRate)
        {
            _dropped++;
            ReportSnapshot(m, delivered: false);
            return;
        }
        Schedule(m);
        if (random.NextDouble() < DuplicateRate) Schedule(m);
    }

    private void Schedule(Message m)
    {
        // Mostly a few milliseconds; now and then a long delay, so later messages overtake it.
        var delay = random.NextDouble() < 0.05 ? 20 + random.Next(200) : 1 + random.Next(10);
        var copy = m.Clone();
        queue.After(delay, () =>
        {
            if (IsCut(copy.From, copy.To))
            {
                _dropped++;
                ReportSnapshot(copy, delivered: false);
                return;
            }
            _delivered++;
            DeliveredByType[(int)copy.Type]++;
            trace.Add((ulong)copy.Type);
            trace.Add(copy.From << 8 | copy.To);
            trace.Add(copy.Term);
            trace.Add(copy.Index);
            member(copy.To).Receive(copy);
            ReportSnapshot(copy, delivered: true);
        });
    }

    /// <summary>A snapshot is streamed by the transport, which tells the sender how it went (as a real transport does).</summary>
    private void ReportSnapshot(Message m, bool delivered)
    {
        if (m.Type == MessageType.MsgSnap) member(m.From).ReportSnapshot(m.To, delivered);
    }
}
