using Coordination.Raft.Protocol;
using Coordination.Raft.Tests.Harness;

namespace Coordination.Raft.Tests;

/// <summary>
/// How followers react when their host reports the leader's process gone (its peer port refused a
/// connection): they elect a new leader within a few heartbeats instead of an election timeout, and
/// a report that is wrong, or about anyone but the leader, disturbs nothing.
/// </summary>
public class LeaderDownScenarios
{
    [Fact]
    public void Followers_told_that_their_leader_is_down_elect_a_new_one_within_three_heartbeats()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(1); // crashed: it neither hears nor is heard
        c[2].ReportPeerDown(1);
        c[3].ReportPeerDown(1);

        Assert.Equal(0UL, c[2].Leader);
        Assert.Equal(0UL, c[3].Leader);
        c.Tick(1, 2, 3);
        Assert.DoesNotContain(c.Delivered, m => m.Type == MessageType.MsgPreVote && m.Term == 2);

        c.Tick(2, 2, 3);
        var leader = new ulong[] { 2, 3 }.Single(id => c[id].Role == RaftRole.Leader);
        Assert.Equal(2UL, c[leader].Term);
        Assert.Equal(leader, c[5 - leader].Leader);
    }

    [Fact]
    public void Without_the_report_the_followers_wait_for_their_election_timeout()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(1);

        c.Tick(3, 2, 3);

        Assert.Equal(1UL, c[2].Leader);
        Assert.Equal(1UL, c[3].Leader);
        Assert.Equal(1UL, c[2].Term);
        c.Tick(2 * c.ElectionTicks, 2, 3);
        Assert.Contains(new ulong[] { 2, 3 }, id => c[id].Role == RaftRole.Leader);
    }

    [Fact]
    public void A_wrong_report_costs_one_refused_pre_vote_while_the_others_still_hear_the_leader()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c[3].ReportPeerDown(1); // the leader is in fact running

        c.Tick(3, 3);

        // Member 2 heard from the leader within an election timeout: it does not answer the pre-vote.
        Assert.Contains(c.Delivered, m => m.Type == MessageType.MsgPreVote && m.From == 3);
        Assert.DoesNotContain(c.Delivered, m => m.Type == MessageType.MsgPreVoteResp && m.To == 3 && !m.Reject);
        Assert.Equal(RaftRole.Leader, c[1].Role);
        Assert.All(c.Ids, id => Assert.Equal(1UL, c[id].Term));
        // The leader's next heartbeat makes member 3 follow it again.
        c.Tick(1, 1);
        Assert.Equal(RaftRole.Follower, c[3].Role);
        Assert.Equal(1UL, c[3].Leader);
    }

    [Fact]
    public void A_report_about_a_member_other_than_the_leader_changes_nothing()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c[2].ReportPeerDown(3);
        c[1].ReportPeerDown(2); // the leader keeps leading; its own checks decide when it steps down

        Assert.Equal(1UL, c[2].Leader);
        Assert.Equal(RaftRole.Leader, c[1].Role);
        c.Tick(3, 2, 3);
        Assert.DoesNotContain(c.Delivered, m => m.Type == MessageType.MsgPreVote && m.Term == 2);
        Assert.Equal(1UL, c[2].Leader);
    }
}
