using Coordination.Raft.Protocol;
using Google.Protobuf;

namespace Coordination.Raft.Tests.Harness;

/// <summary>
/// A few members wired together by hand for scenario tests: nothing happens until the test says
/// so. <see cref="Stabilize"/> carries out every Ready (persist, send, apply, advance) and
/// delivers messages until the cluster is quiet; links can be cut to isolate members. The applied
/// state of each member is the list of its applied entry payloads.
/// </summary>
internal sealed class TestCluster
{
    private readonly Dictionary<ulong, Member> _members = new();
    private readonly HashSet<(ulong From, ulong To)> _cut = new();
    private readonly List<Message> _inFlight = new();
    private readonly int _retainedEntries;

    private readonly long _maxMessageBytes;

    private readonly int _maxInflight;

    public TestCluster(int voters, int retainedEntries = 1000, int electionTicks = 10, long maxMessageBytes = 1 << 20, int maxInflight = 256)
    {
        _maxInflight = maxInflight;
        _retainedEntries = retainedEntries;
        _maxMessageBytes = maxMessageBytes;
        ElectionTicks = electionTicks;
        var ids = Enumerable.Range(1, voters).Select(i => (ulong)i).ToList();
        foreach (var id in ids) _members[id] = new Member(NewNode(id, ids));
    }

    public int ElectionTicks { get; }

    /// <summary>Every message delivered so far (for assertions on what was sent).</summary>
    public List<Message> Delivered { get; } = new();

    public RaftNode this[ulong id] => _members[id].Node;

    public IEnumerable<ulong> Ids => _members.Keys.Order();

    /// <summary>The payloads a member applied, in order (empty entries and configuration changes excluded).</summary>
    public List<string> Applied(ulong id) => _members[id].Applied;

    /// <summary>The committed entries of each Ready a member applied, as (index, term) pairs.</summary>
    public List<List<(ulong Index, ulong Term)>> AppliedBatches(ulong id) => _members[id].Batches;

    /// <summary>Read states a member received.</summary>
    public List<ReadState> ReadStates(ulong id) => _members[id].ReadStates;

    /// <summary>The member that leads the highest term.</summary>
    public ulong Leader => _members.Values.Where(m => m.Node.Role == RaftRole.Leader).MaxBy(m => m.Node.Term)?.Node.Id ?? 0;

    /// <summary>Cuts every link to and from <paramref name="id"/>.</summary>
    public void Isolate(ulong id)
    {
        foreach (var other in _members.Keys.Where(o => o != id))
        {
            _cut.Add((id, other));
            _cut.Add((other, id));
        }
    }

    /// <summary>Cuts the link from <paramref name="from"/> to <paramref name="to"/> only.</summary>
    public void Cut(ulong from, ulong to) => _cut.Add((from, to));

    /// <summary>Restores every link.</summary>
    public void Heal() => _cut.Clear();

    /// <summary>Campaigns on <paramref name="id"/> and lets the election finish.</summary>
    public void Elect(ulong id)
    {
        this[id].Campaign();
        Stabilize();
    }

    /// <summary>Proposes <paramref name="payload"/> on <paramref name="id"/> and lets it replicate.</summary>
    public ProposeResult Propose(ulong id, string payload)
    {
        var result = this[id].Propose(ByteString.CopyFromUtf8(payload));
        Stabilize();
        return result;
    }

    /// <summary>Proposes a membership change on <paramref name="id"/> and lets it replicate and apply.</summary>
    public ProposeResult Change(ulong id, ConfChangeType type, ulong member)
    {
        var result = this[id].ProposeConfChange(new ConfChange { Type = type, NodeId = member });
        Stabilize();
        return result;
    }

    /// <summary>Ticks <paramref name="id"/> (or every member) <paramref name="ticks"/> times, stabilizing after each.</summary>
    public void Tick(int ticks, params ulong[] ids)
    {
        var who = ids.Length == 0 ? _members.Keys.Order().ToArray() : ids;
        for (var i = 0; i < ticks; i++)
        {
            foreach (var id in who) _members[id].Node.Tick();
            Stabilize();
        }
    }

    /// <summary>Adds a member that knows no configuration yet: it learns it from the leader (by snapshot).</summary>
    public void AddBlankMember(ulong id) => _members[id] = new Member(NewNode(id, []));

    /// <summary>Takes a snapshot of <paramref name="id"/>'s applied state and lets the core release what it covers.</summary>
    public void Snapshot(ulong id)
    {
        var m = _members[id];
        var node = m.Node;
        node.TryGetTerm(node.AppliedIndex, out var term);
        var snapshot = new Snapshot
        {
            Data = ByteString.CopyFromUtf8(string.Join('\n', m.Applied)),
            Metadata = new SnapshotMetadata { Index = node.AppliedIndex, Term = term, ConfState = node.ConfState },
        };
        m.Snapshot = snapshot;
        node.Compact(snapshot);
    }

    /// <summary>Processes every Ready and delivers every message until nothing is left to do.</summary>
    public void Stabilize()
    {
        for (var round = 0; round < 10_000; round++)
        {
            var busy = false;
            foreach (var id in _members.Keys.Order())
            {
                var m = _members[id];
                while (m.Node.HasReady)
                {
                    busy = true;
                    var ready = m.Node.GetReady();
                    if (ready.Snapshot is { } snap)
                    {
                        m.Applied.Clear();
                        var data = snap.Data.ToStringUtf8();
                        if (data.Length > 0) m.Applied.AddRange(data.Split('\n'));
                        m.Snapshot = snap;
                    }
                    foreach (var e in ready.Entries)
                    {
                        m.Log.RemoveAll(x => x.Index >= e.Index);
                        m.Log.Add(e);
                    }
                    _inFlight.AddRange(ready.Messages);
                    foreach (var e in ready.CommittedEntries)
                    {
                        if (e.Type == EntryType.EntryNormal && !e.Data.IsEmpty) m.Applied.Add(e.Data.ToStringUtf8());
                    }
                    if (ready.CommittedEntries.Count > 0) m.Batches.Add(ready.CommittedEntries.Select(e => (e.Index, e.Term)).ToList());
                    m.ReadStates.AddRange(ready.ReadStates);
                    m.Node.Advance(ready);
                }
            }
            var batch = _inFlight.ToList();
            _inFlight.Clear();
            foreach (var msg in batch)
            {
                if (_cut.Contains((msg.From, msg.To)) || !_members.TryGetValue(msg.To, out var to)) continue;
                busy = true;
                Delivered.Add(msg);
                to.Node.Step(msg.Clone());
            }
            if (!busy) return;
        }
        throw new InvalidOperationException("the cluster did not become quiet");
    }

    private RaftNode NewNode(ulong id, IReadOnlyList<ulong> voters) =>
        new(new RaftConfig { Id = id, Voters = voters, ElectionTicks = ElectionTicks, Seed = (int)id, RetainedEntries = _retainedEntries, MaxMessageBytes = _maxMessageBytes, MaxInflightMessages = _maxInflight },
            new HardState(), null, []);

    private sealed class Member(RaftNode node)
    {
        public RaftNode Node { get; } = node;
        public List<Entry> Log { get; } = new();
        public List<string> Applied { get; } = new();
        public List<ReadState> ReadStates { get; } = new();
        public List<List<(ulong Index, ulong Term)>> Batches { get; } = new();
        public Snapshot? Snapshot { get; set; }
    }
}
