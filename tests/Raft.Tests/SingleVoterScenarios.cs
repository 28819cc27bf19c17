using Coordination.Raft;
using Coordination.Raft.Protocol;
using Google.Protobuf;

namespace Coordination.Raft.Tests;

/// <summary>Scenarios that pin how the core behaves as a cluster of one voter.</summary>
public class SingleVoterScenarios
{
    private static RaftNode NewNode(HardState? hs = null, SnapshotMetadata? snap = null, IReadOnlyList<Entry>? entries = null, int seed = 1) =>
        new(new RaftConfig { Id = 1, Voters = [1], ElectionTicks = 10, Seed = seed }, hs ?? new HardState(), snap, entries ?? []);

    /// <summary>Persists and applies every Ready the node has, the way the host does.</summary>
    private static List<Entry> Drain(RaftNode node, List<Entry> disk, ref HardState persisted)
    {
        var applied = new List<Entry>();
        while (node.HasReady)
        {
            var ready = node.GetReady();
            foreach (var e in ready.Entries)
            {
                disk.RemoveAll(d => d.Index >= e.Index);
                disk.Add(e);
            }
            if (ready.HardState is not null) persisted = ready.HardState;
            applied.AddRange(ready.CommittedEntries);
            node.Advance(ready);
        }
        return applied;
    }

    [Fact]
    public void A_new_member_that_campaigns_leads_term_one_and_appends_an_empty_entry()
    {
        var node = NewNode();
        node.Campaign();

        Assert.Equal(RaftRole.Leader, node.Role);
        Assert.Equal(1UL, node.Term);
        var ready = node.GetReady();
        var entry = Assert.Single(ready.Entries);
        Assert.Equal((1UL, 1UL), (entry.Index, entry.Term));
        Assert.True(entry.Data.IsEmpty);
        Assert.True(ready.MustSync);
        Assert.Empty(ready.CommittedEntries);
    }

    [Fact]
    public void A_proposal_is_committed_only_after_the_host_reports_it_persisted()
    {
        var node = NewNode();
        node.Campaign();
        var disk = new List<Entry>();
        var hs = new HardState();
        Drain(node, disk, ref hs);

        Assert.Equal(ProposeResult.Accepted, node.Propose(ByteString.CopyFromUtf8("x")));
        var first = node.GetReady();
        Assert.Single(first.Entries);
        Assert.Empty(first.CommittedEntries);
        Assert.Equal(1UL, node.Commit);

        node.Advance(first);
        Assert.Equal(2UL, node.Commit);
        var second = node.GetReady();
        Assert.Equal("x", Assert.Single(second.CommittedEntries).Data.ToStringUtf8());
        Assert.Empty(second.Entries);
    }

    [Fact]
    public void A_follower_drops_proposals()
    {
        var node = NewNode();
        Assert.Equal(ProposeResult.Dropped, node.Propose(ByteString.CopyFromUtf8("x")));
        Assert.False(node.HasReady);
    }

    [Fact]
    public void A_follower_campaigns_after_a_randomized_election_timeout_within_one_to_two_timeouts()
    {
        var node = NewNode(seed: 42);
        var ticks = 0;
        while (node.Role != RaftRole.Leader && ticks < 100) { node.Tick(); ticks++; }

        Assert.Equal(RaftRole.Leader, node.Role);
        Assert.InRange(ticks, 10, 19);
    }

    [Fact]
    public void The_same_seed_gives_the_same_election_timing()
    {
        int TicksToLead(int seed)
        {
            var node = NewNode(seed: seed);
            var ticks = 0;
            while (node.Role != RaftRole.Leader) { node.Tick(); ticks++; }
            return ticks;
        }

        Assert.Equal(TicksToLead(7), TicksToLead(7));
        var distinct = Enumerable.Range(0, 20).Select(TicksToLead).Distinct().Count();
        Assert.True(distinct > 1, "different seeds should give different timeouts");
    }

    [Fact]
    public void After_a_restart_entries_persisted_but_not_known_committed_are_committed_by_the_new_terms_entry()
    {
        var node = NewNode();
        node.Campaign();
        var disk = new List<Entry>();
        var hs = new HardState();
        Drain(node, disk, ref hs);
        node.Propose(ByteString.CopyFromUtf8("a"));
        node.Propose(ByteString.CopyFromUtf8("b"));
        // The host persisted the entries (and synced) but crashed before recording the new commit index.
        var ready = node.GetReady();
        disk.AddRange(ready.Entries);
        var crashedHardState = hs.Clone();

        var restarted = NewNode(crashedHardState, null, disk);
        Assert.Equal(1UL, restarted.Commit);
        restarted.Campaign();
        Assert.Equal(2UL, restarted.Term);
        var applied = Drain(restarted, disk, ref crashedHardState);

        Assert.Equal(["a", "b"], applied.Where(e => !e.Data.IsEmpty).Select(e => e.Data.ToStringUtf8()));
        Assert.Equal(4UL, restarted.Commit);
        Assert.Equal(4UL, crashedHardState.Commit);
    }

    [Fact]
    public void A_member_restored_from_a_snapshot_continues_the_log_after_it()
    {
        var snap = new SnapshotMetadata { Index = 100, Term = 3, ConfState = new ConfState { Voters = { 1 } } };
        var node = NewNode(new HardState { Term = 3, Vote = 1, Commit = 100 }, snap, []);
        node.Campaign();
        var disk = new List<Entry>();
        var hs = new HardState();
        node.Propose(ByteString.CopyFromUtf8("next"));
        var applied = Drain(node, disk, ref hs);

        Assert.Equal([101UL, 102UL], applied.Select(e => e.Index));
        Assert.Equal(4UL, applied[0].Term);
    }

    [Fact]
    public void Entries_are_released_from_memory_once_persisted_and_applied()
    {
        var node = NewNode();
        node.Campaign();
        var disk = new List<Entry>();
        var hs = new HardState();
        for (var i = 0; i < 1000; i++) node.Propose(ByteString.CopyFromUtf8(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var applied = Drain(node, disk, ref hs);

        Assert.Equal(1001, applied.Count);
        Assert.Equal(1001UL, node.AppliedIndex);
        // Proposing more still works after the release (the log keeps the last term).
        Assert.Equal(ProposeResult.Accepted, node.Propose(ByteString.Empty));
        Assert.Single(Drain(node, disk, ref hs));
    }
}
