using Coordination.Raft.Protocol;
using Coordination.Raft.Tests.Harness;

namespace Coordination.Raft.Tests;

/// <summary>Learners, promotion, membership changes one member at a time, leadership transfer and removal of the leader.</summary>
public class MembershipScenarios
{
    [Fact]
    public void A_learner_receives_the_log_but_does_not_count_towards_the_quorum_until_promoted()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.AddBlankMember(4);
        Assert.Equal(ProposeResult.Accepted, c.Change(1, ConfChangeType.ConfChangeAddLearnerNode, 4));
        c.Propose(1, "a");
        Assert.Equal(["a"], c.Applied(4));
        Assert.Equal([4UL], c[1].ConfState.Learners);
        Assert.False(c[4].IsPromotable);

        // With both voting followers cut off, the learner's acknowledgement commits nothing.
        c.Isolate(2);
        c.Isolate(3);
        c.Propose(1, "b");
        Assert.Equal(["a"], c.Applied(1));

        c.Heal();
        c.Tick(1, 1);
        Assert.Equal(ProposeResult.Accepted, c.Change(1, ConfChangeType.ConfChangeAddNode, 4));
        Assert.Equal([1UL, 2UL, 3UL, 4UL], c[1].ConfState.Voters);
        Assert.True(c[4].IsPromotable);
        c.Isolate(2);
        c.Propose(1, "c");
        // Three of four voters (1, 3, 4) are a majority.
        Assert.Equal(["a", "b", "c"], c.Applied(1));
    }

    [Fact]
    public void A_second_membership_change_is_refused_while_the_first_is_not_applied()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(2);
        c.Isolate(3);
        Assert.Equal(ProposeResult.Accepted, c[1].ProposeConfChange(new ConfChange { Type = ConfChangeType.ConfChangeAddLearnerNode, NodeId = 4 }));
        Assert.Equal(ProposeResult.Dropped, c[1].ProposeConfChange(new ConfChange { Type = ConfChangeType.ConfChangeAddLearnerNode, NodeId = 5 }));
    }

    [Fact]
    public void A_new_voter_joins_with_no_state_and_catches_up_from_a_snapshot()
    {
        var c = new TestCluster(3, retainedEntries: 0);
        c.Elect(1);
        for (var i = 0; i < 10; i++) c.Propose(1, "e" + i);
        c.Snapshot(1);
        c.AddBlankMember(4);
        c.Change(1, ConfChangeType.ConfChangeAddNode, 4);
        c.Propose(1, "after");

        Assert.Equal(c.Applied(1), c.Applied(4));
        Assert.Equal([1UL, 2UL, 3UL, 4UL], c[4].ConfState.Voters);
    }

    [Fact]
    public void Leadership_moves_at_once_to_an_up_to_date_follower_on_request()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Propose(1, "a");
        c[1].TransferLeader(2);
        c.Stabilize();

        Assert.Equal(RaftRole.Leader, c[2].Role);
        Assert.Equal(2UL, c[2].Term);
        Assert.Equal(2UL, c[1].Leader);
        Assert.Contains(c.Delivered, m => m.Type == MessageType.MsgTimeoutNow && m.To == 2);
        c.Propose(2, "b");
        Assert.All(c.Ids, id => Assert.Equal(["a", "b"], c.Applied(id)));
    }

    [Fact]
    public void A_leader_refuses_proposals_while_it_hands_over_leadership()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(3);
        c.Propose(1, "a");
        // Member 3 lags behind: the transfer waits for it to catch up.
        c[1].TransferLeader(3);
        Assert.Equal(3UL, c[1].LeadTransferee);
        Assert.Equal(ProposeResult.Dropped, c[1].Propose(Google.Protobuf.ByteString.CopyFromUtf8("b")));

        c.Heal();
        c.Tick(1, 1);
        Assert.Equal(RaftRole.Leader, c[3].Role);
    }

    [Fact]
    public void Removing_the_leader_hands_leadership_to_another_member_and_the_rest_keep_committing()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Propose(1, "a");
        Assert.Equal(ProposeResult.Accepted, c.Change(1, ConfChangeType.ConfChangeRemoveNode, 1));

        Assert.NotEqual(RaftRole.Leader, c[1].Role);
        Assert.False(c[1].IsPromotable);
        var leader = c.Leader;
        Assert.Contains(leader, new ulong[] { 2, 3 });
        Assert.Equal([2UL, 3UL], c[leader].ConfState.Voters);
        c.Isolate(1);
        c.Propose(leader, "b");
        Assert.Equal(["a", "b"], c.Applied(2));
        Assert.Equal(["a", "b"], c.Applied(3));
    }

    [Fact]
    public void A_removed_follower_is_no_longer_sent_entries_and_the_quorum_shrinks()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Change(1, ConfChangeType.ConfChangeRemoveNode, 3);
        c.Isolate(3);
        c.Propose(1, "a");

        Assert.Equal([1UL, 2UL], c[1].ConfState.Voters);
        Assert.Equal(["a"], c.Applied(2));
        c.Isolate(2);
        c.Propose(1, "b");
        // Two voters: both are needed now.
        Assert.Equal(["a"], c.Applied(1));
    }
}
