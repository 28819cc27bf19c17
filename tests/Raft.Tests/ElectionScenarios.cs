using Coordination.Raft.Protocol;
using Coordination.Raft.Tests.Harness;

namespace Coordination.Raft.Tests;

/// <summary>How members elect a leader, and how pre-vote and check-quorum keep elections from disturbing a working cluster.</summary>
public class ElectionScenarios
{
    [Fact]
    public void A_member_that_campaigns_wins_with_a_majority_of_votes_and_the_others_follow_it()
    {
        var c = new TestCluster(3);
        c.Elect(1);

        Assert.Equal(RaftRole.Leader, c[1].Role);
        Assert.Equal(1UL, c[1].Term);
        Assert.All(new ulong[] { 2, 3 }, id =>
        {
            Assert.Equal(RaftRole.Follower, c[id].Role);
            Assert.Equal(1UL, c[id].Leader);
            Assert.Equal(1UL, c[id].Vote);
        });
        // Pre-vote ran first, without raising anyone's term.
        Assert.Contains(c.Delivered, m => m.Type == MessageType.MsgPreVote && m.Term == 1);
    }

    [Fact]
    public void Without_a_leader_a_follower_campaigns_after_its_randomized_election_timeout()
    {
        var c = new TestCluster(3);
        c.Tick(2 * c.ElectionTicks);

        Assert.NotEqual(0UL, c.Leader);
        Assert.Single(c.Ids, id => c[id].Role == RaftRole.Leader);
    }

    [Fact]
    public void A_candidate_missing_committed_entries_cannot_win()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(3);
        c.Propose(1, "a");
        c.Heal();
        // Member 3 never saw "a": the others refuse it their votes (its log is not up to date).
        c.Isolate(1);
        c[3].Campaign();
        c.Stabilize();

        Assert.NotEqual(RaftRole.Leader, c[3].Role);
        c.Elect(2);
        Assert.Equal(RaftRole.Leader, c[2].Role);
    }

    [Fact]
    public void A_member_cut_off_from_the_cluster_does_not_raise_its_term_and_does_not_disturb_the_leader_when_it_returns()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(3);
        c.Tick(5 * c.ElectionTicks, 3);

        // Pre-vote: it never got a majority, so it never started a real election.
        Assert.Equal(1UL, c[3].Term);
        c.Heal();
        c.Tick(1);
        Assert.Equal(RaftRole.Leader, c[1].Role);
        Assert.Equal(1UL, c[1].Term);
        Assert.Equal(1UL, c[3].Leader);
    }

    [Fact]
    public void A_leader_that_stops_hearing_from_a_quorum_steps_down_within_two_election_timeouts()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(1);
        // The first check may still count answers from before the cut; the second cannot.
        c.Tick(2 * c.ElectionTicks, 1);

        Assert.Equal(RaftRole.Follower, c[1].Role);
        Assert.Equal(0UL, c[1].Leader);
    }

    [Fact]
    public void Followers_that_hear_from_their_leader_refuse_votes_to_a_member_that_merely_timed_out()
    {
        var c = new TestCluster(3, electionTicks: 10);
        c.Elect(1);
        // Member 3's clock jumps: it campaigns although the leader is healthy.
        c.Isolate(1);
        c.Heal();
        c[3].Campaign();
        c.Stabilize();

        Assert.Equal(RaftRole.Leader, c[1].Role);
        Assert.Equal(1UL, c[1].Term);
    }
}
