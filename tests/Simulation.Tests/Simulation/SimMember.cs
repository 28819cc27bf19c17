using Coordination.Raft;
using Coordination.Raft.Protocol;
using Google.Protobuf;

namespace Coordination.Simulation.Tests.Simulation;

/// <summary>
/// One member: the consensus core, its simulated disk and key-value state machine, and the host
/// loop that carries out each <see cref="Ready"/> in the order the core requires (persist, sync,
/// send, apply, advance). Client requests are answered from here: a put once this member applies
/// it, a read once a read index is confirmed and applied.
/// </summary>
public sealed class SimMember
{
    private readonly Simulator _sim;
    private readonly Dictionary<long, Action<bool>> _waitingPuts = new();
    private readonly Dictionary<ByteString, Action<string?>> _waitingReadIndex = new();
    private readonly List<(ulong Index, string Key, Action<string?> Done)> _waitingApply = new();
    private int _ticks;
    private int _appliedSinceSnapshot;
    private ulong _lastLeaderTermChecked;

    internal SimMember(Simulator sim, ulong id, RaftConfig config)
    {
        _sim = sim;
        Id = id;
        Config = config;
        Start();
    }

    /// <summary>The member's id.</summary>
    public ulong Id { get; }

    /// <summary>The consensus configuration it (re)starts with.</summary>
    public RaftConfig Config { get; }

    /// <summary>The consensus core; null while crashed.</summary>
    public RaftNode? Node { get; private set; }

    /// <summary>The member's disk, which survives crashes (minus unsynced writes).</summary>
    public SimDisk Disk { get; } = new();

    /// <summary>The applied state; rebuilt from the disk on restart.</summary>
    public KvStore Kv { get; private set; } = new();

    /// <summary>True while running.</summary>
    public bool IsUp => Node is not null;

    /// <summary>True when this member has applied its own removal (a removed etcd member refuses clients).</summary>
    public bool IsRemoved => Node is { } n && !n.ConfState.Voters.Contains(Id) && !n.ConfState.Learners.Contains(Id);

    /// <summary>Number of restarts so far (changes the random seed of the core).</summary>
    public int Restarts { get; private set; }

    /// <summary>Handles a message from the network.</summary>
    public void Receive(Message m)
    {
        if (Node is null) return;
        Node.Step(m);
        Process();
    }

    /// <summary>One tick of this member's clock.</summary>
    public void Tick()
    {
        if (Node is null) return;
        Node.Tick();
        // The broken variant syncs only now and then, in the background.
        if (_sim.Options.BrokenAckBeforeSync && ++_ticks % 10 == 0) Disk.Sync();
        Process();
    }

    /// <summary>Loses the process and every unsynced write; waiting clients never hear back.</summary>
    public void Crash()
    {
        if (Node is null || _sim.Healed) return;
        Node = null;
        Disk.Crash();
        _waitingPuts.Clear();
        _waitingReadIndex.Clear();
        _waitingApply.Clear();
        _sim.Log($"{Id} crashed");
        _sim.OnCrash(this);
    }

    /// <summary>
    /// The transport's report that <paramref name="peer"/> refused a connection (its process is gone,
    /// or a wrong report: see <see cref="FaultInjector"/>).
    /// </summary>
    public void ReportPeerDown(ulong peer)
    {
        if (Node is null) return;
        if (Node.Role == RaftRole.Follower && Node.Leader == peer) LeaderDownReports++;
        _sim.Log($"{Id} hears {peer} is down (role {Node.Role}, leader {Node.Leader}, term {Node.Term})");
        Node.ReportPeerDown(peer);
        Process();
    }

    /// <summary>Reports that reached this member while it followed the peer reported down.</summary>
    public int LeaderDownReports { get; private set; }

    /// <summary>Starts again from what the disk holds.</summary>
    public void Restart()
    {
        if (Node is not null) return;
        Restarts++;
        Start();
        _sim.Log($"{Id} restarted at applied {Kv.AppliedIndex}");
    }

    /// <summary>A client's put; <paramref name="done"/> gets true once applied here, false when refused for sure.</summary>
    public void SubmitPut(long requestId, string key, string value, Action<bool> done)
    {
        if (Node is null) return;
        if (IsRemoved)
        {
            done(false);
            return;
        }
        var result = Node.Propose(KvStore.EncodePut(requestId, key, value));
        if (result == ProposeResult.Dropped)
        {
            done(false);
            return;
        }
        _waitingPuts[requestId] = done;
        Process();
    }

    /// <summary>A client's linearizable read; <paramref name="done"/> gets the value (never called when the read is lost).</summary>
    public void SubmitGet(long requestId, string key, Action<string?> done)
    {
        if (Node is null || IsRemoved) return;
        if (_sim.Options.BrokenLocalReads)
        {
            done(Kv.Get(key));
            return;
        }
        var context = ByteString.CopyFromUtf8(requestId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (!Node.ReadIndex(context)) return;
        _waitingReadIndex[context] = value => done(value);
        _waitingReadKeys[context] = key;
        Process();
    }

    private readonly Dictionary<ByteString, string> _waitingReadKeys = new();

    /// <summary>The transport's report on a snapshot this member sent.</summary>
    public void ReportSnapshot(ulong to, bool delivered)
    {
        if (Node is null) return;
        Node.ReportSnapshot(to, delivered);
        Process();
    }

    /// <summary>Proposes a membership change here (dropped unless this member leads).</summary>
    public ProposeResult ProposeConfChange(ConfChange change)
    {
        if (Node is null) return ProposeResult.Dropped;
        var result = Node.ProposeConfChange(change);
        Process();
        return result;
    }

    /// <summary>Asks this member, if it leads, to hand leadership to <paramref name="target"/>.</summary>
    public void TransferLeader(ulong target)
    {
        if (Node is null) return;
        Node.TransferLeader(target);
        Process();
    }

    private void Start()
    {
        Kv = Disk.Snapshot is { } snap ? KvStore.Restore(snap.Data) : new KvStore();
        var config = Config with { Seed = unchecked(Config.Seed + Restarts * 7919) };
        Node = new RaftNode(config, Disk.HardState.Clone(), Disk.Snapshot?.Metadata, Disk.Entries.ToList());
        if (Disk.Snapshot is not null) Node.Compact(Disk.Snapshot);
        _appliedSinceSnapshot = 0;
        _lastLeaderTermChecked = 0;
    }

    private void Process()
    {
        var node = Node!;
        while (node.HasReady)
        {
            var ready = node.GetReady();
            if (ready.Snapshot is { } snapshot)
            {
                Disk.Write(snapshot);
                Kv = KvStore.Restore(snapshot.Data);
                _sim.Invariants.OnApplied(this, Kv.AppliedIndex, Kv.ChainHash);
            }
            if (ready.HardState is not null) Disk.Write(ready.HardState);
            Disk.Write(ready.Entries);
            if (ready.MustSync && !_sim.Options.BrokenAckBeforeSync) Disk.Sync();
            foreach (var m in ready.Messages) _sim.Network.Send(m);
            foreach (var entry in ready.CommittedEntries)
            {
                var requestId = Kv.Apply(entry);
                _sim.Invariants.OnApplied(this, Kv.AppliedIndex, Kv.ChainHash);
                if (requestId != 0 && _waitingPuts.Remove(requestId, out var done)) done(true);
            }
            node.Advance(ready);
            foreach (var rs in ready.ReadStates)
            {
                if (_waitingReadIndex.Remove(rs.Context, out var done) && _waitingReadKeys.Remove(rs.Context, out var key))
                    _waitingApply.Add((rs.Index, key, done));
            }
            ServeReads();
            _appliedSinceSnapshot += ready.CommittedEntries.Count;
            if (_appliedSinceSnapshot >= _sim.Options.SnapshotEvery)
            {
                _appliedSinceSnapshot = 0;
                var snap = new Snapshot
                {
                    Data = Kv.Image(),
                    Metadata = new SnapshotMetadata { Index = Kv.AppliedIndex, Term = TermOfApplied(ready), ConfState = node.ConfState },
                };
                Disk.SaveOwnSnapshot(snap);
                node.Compact(snap);
            }
        }
        if (node.Role == RaftRole.Leader && node.Term != _lastLeaderTermChecked)
        {
            _lastLeaderTermChecked = node.Term;
            _sim.Invariants.OnLeader(this);
        }
    }

    private ulong TermOfApplied(Ready ready) =>
        ready.CommittedEntries.Count > 0 ? ready.CommittedEntries[^1].Term
            : Node!.TryGetTerm(Kv.AppliedIndex, out var t) ? t : 0;

    private void ServeReads()
    {
        for (var i = 0; i < _waitingApply.Count; i++)
        {
            var (index, key, done) = _waitingApply[i];
            if (Kv.AppliedIndex < index) continue;
            _waitingApply.RemoveAt(i--);
            done(Kv.Get(key));
        }
    }
}
