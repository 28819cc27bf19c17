using Coordination.Raft.Protocol;
using Coordination.Raft.Tests.Harness;

namespace Coordination.Raft.Tests;

/// <summary>How entries reach followers, when they count as committed, and how diverging logs are repaired.</summary>
public class ReplicationScenarios
{
    [Fact]
    public void Entries_proposed_on_the_leader_are_applied_by_every_member_in_the_same_order()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        foreach (var p in new[] { "a", "b", "c" }) Assert.Equal(ProposeResult.Accepted, c.Propose(1, p));

        Assert.All(c.Ids, id => Assert.Equal(["a", "b", "c"], c.Applied(id)));
    }

    [Fact]
    public void A_proposal_made_on_a_follower_is_forwarded_to_the_leader()
    {
        var c = new TestCluster(3);
        c.Elect(1);

        Assert.Equal(ProposeResult.Forwarded, c.Propose(2, "via-follower"));
        Assert.All(c.Ids, id => Assert.Equal(["via-follower"], c.Applied(id)));
    }

    [Fact]
    public void Without_a_known_leader_a_proposal_is_dropped()
    {
        var c = new TestCluster(3);
        Assert.Equal(ProposeResult.Dropped, c.Propose(2, "x"));
    }

    [Fact]
    public void An_entry_is_committed_only_once_a_majority_has_persisted_it()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(2);
        c.Isolate(3);
        c.Propose(1, "x");
        Assert.Empty(c.Applied(1));

        c.Heal();
        c.Isolate(3);
        c.Tick(1, 1);
        Assert.Equal(["x"], c.Applied(1));
        Assert.Equal(["x"], c.Applied(2));
    }

    [Fact]
    public void A_deposed_leaders_uncommitted_entries_are_replaced_by_the_new_leaders_log()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Propose(1, "committed");
        c.Isolate(1);
        c.Propose(1, "lost-1");
        c.Propose(1, "lost-2");
        Assert.True(c[1].LastIndex > c[2].LastIndex);

        // The others time out and elect one of themselves.
        c.Tick(3 * c.ElectionTicks, 2, 3);
        var leader = c.Leader;
        Assert.Contains(leader, new ulong[] { 2, 3 });
        c.Propose(leader, "won");
        c.Heal();
        c.Tick(1, leader);

        Assert.Equal(RaftRole.Follower, c[1].Role);
        Assert.All(c.Ids, id => Assert.Equal(["committed", "won"], c.Applied(id)));
        Assert.Equal(c[leader].LastIndex, c[1].LastIndex);
    }

    [Fact]
    public void A_leader_commits_entries_of_an_earlier_term_only_through_an_entry_of_its_own_term()
    {
        // One entry per append message: member 2 acknowledges the old entry before the new one,
        // and a majority then holds it without it being committed yet.
        var c = new TestCluster(3, maxMessageBytes: 1);
        c.Elect(1);
        c.Isolate(2);
        c.Isolate(3);
        c.Propose(1, "old-term");
        var oldIndex = c[1].LastIndex;
        // Cut off, member 1 steps down. With member 2 back, only member 1 can win (its log is
        // longer); the old entry is committed together with the new term's first entry.
        c.Tick(2 * c.ElectionTicks, 1);
        Assert.Equal(RaftRole.Follower, c[1].Role);
        c.Heal();
        c.Isolate(3);
        c.Tick(3 * c.ElectionTicks, 1, 2);

        Assert.Equal(1UL, c.Leader);
        Assert.True(c[1].Term > 1);
        Assert.Equal(["old-term"], c.Applied(2));
        var batch = Assert.Single(c.AppliedBatches(1), b => b.Any(e => e.Index == oldIndex));
        Assert.Contains(batch, e => e.Index > oldIndex && e.Term == c[1].Term);
    }

    [Fact]
    public void A_follower_whose_appends_were_all_lost_catches_up_once_it_answers_a_heartbeat()
    {
        var c = new TestCluster(3, maxInflight: 2, maxMessageBytes: 1);
        c.Elect(1);
        c.Cut(1, 3);
        for (var i = 0; i < 5; i++) c.Propose(1, "e" + i);
        Assert.Empty(c.Applied(3));

        // The window towards 3 is full of lost appends; nobody reports the loss.
        c.Heal();
        c.Tick(1, 1);
        c.Tick(1, 1);
        Assert.Equal(c.Applied(1), c.Applied(3));
        Assert.Equal(5, c.Applied(3).Count);
    }

    [Fact]
    public void A_follower_that_fell_behind_the_leaders_retained_log_catches_up_from_a_snapshot()
    {
        var c = new TestCluster(3, retainedEntries: 0);
        c.Elect(1);
        c.Isolate(3);
        for (var i = 0; i < 20; i++) c.Propose(1, "e" + i);
        c.Snapshot(1);
        c.Propose(1, "after-snapshot");
        c.Heal();
        c.Tick(1, 1);

        Assert.Contains(c.Delivered, m => m.Type == MessageType.MsgSnap && m.To == 3);
        Assert.Equal(c.Applied(1), c.Applied(3));
        Assert.Equal(21, c.Applied(3).Count);
        Assert.Equal(c[1].LastIndex, c[3].LastIndex);
    }

    [Fact]
    public void Linearizable_reads_are_answered_only_after_a_quorum_confirms_the_leader_and_share_one_round()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Propose(1, "x");
        c.Isolate(1);
        c[1].ReadIndex(Google.Protobuf.ByteString.CopyFromUtf8("r1"));
        c.Stabilize();
        Assert.Empty(c.ReadStates(1));

        c.Heal();
        var heartbeatsBefore = c.Delivered.Count(m => m.Type == MessageType.MsgHeartbeat);
        c[1].ReadIndex(Google.Protobuf.ByteString.CopyFromUtf8("r2"));
        c[1].ReadIndex(Google.Protobuf.ByteString.CopyFromUtf8("r3"));
        c.Stabilize();

        // r1's round was lost; r2 and r3 shared the next one, which also confirmed r1.
        Assert.Equal(["r1", "r2", "r3"], c.ReadStates(1).Select(r => r.Context.ToStringUtf8()));
        Assert.All(c.ReadStates(1), r => Assert.Equal(c[1].Commit, r.Index));
        Assert.Equal(2, c.Delivered.Count(m => m.Type == MessageType.MsgHeartbeat) - heartbeatsBefore);
    }

    [Fact]
    public void A_read_requested_on_a_follower_is_answered_through_the_leader()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Propose(1, "x");
        c[2].ReadIndex(Google.Protobuf.ByteString.CopyFromUtf8("f"));
        c.Stabilize();

        var rs = Assert.Single(c.ReadStates(2));
        Assert.Equal(c[1].Commit, rs.Index);
    }
}
