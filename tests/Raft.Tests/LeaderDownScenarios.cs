using Coordination.Raft.Protocol;
using Coordination.Raft.Tests.Harness;

namespace Coordination.Raft.Tests;

/// <summary>
/// How followers react when their host reports the leader's process gone (its peer port refused a
/// connection): they elect a new leader within a few heartbeats instead of an election timeout, a
/// late message the leader sent before it died does not bring it back, and a report that is wrong,
/// or about anyone but the leader, disturbs no one else.
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
    public void A_heartbeat_the_leader_sent_before_it_died_does_not_make_it_leader_again()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(1);
        c[2].ReportPeerDown(1);
        c[3].ReportPeerDown(1);

        // Delivered late, after the reports: a restarted member never leads the term it left.
        var late = new Message { Type = MessageType.MsgHeartbeat, From = 1, To = 2, Term = 1, Commit = c[2].Commit };
        c[2].Step(late.Clone());
        Assert.Equal(0UL, c[2].Leader);

        // Nor does one that reaches member 2 while it asks for pre-votes (unanswered for now).
        c.Cut(2, 3);
        c.Tick(3, 2);
        Assert.Equal(RaftRole.PreCandidate, c[2].Role);
        c[2].Step(late.Clone());
        Assert.Equal(RaftRole.PreCandidate, c[2].Role);

        c.Heal();
        c.Isolate(1);
        c.Tick(3, 2, 3);
        Assert.Contains(new ulong[] { 2, 3 }, id => c[id].Role == RaftRole.Leader);
    }

    [Fact]
    public void In_a_later_term_the_member_reported_down_is_followed_again_at_once()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c[2].ReportPeerDown(1);

        // A vote request moves member 2 to term 2 before any leader of it is known; member 1, back
        // and elected in term 2, is its leader at its first heartbeat, however soon after the report.
        c[2].Step(new Message { Type = MessageType.MsgVote, From = 3, To = 2, Term = 2, Index = c[2].LastIndex, LogTerm = 1 });
        Assert.Equal(2UL, c[2].Term);
        c[2].Step(new Message { Type = MessageType.MsgHeartbeat, From = 1, To = 2, Term = 2, Commit = c[2].Commit });

        Assert.Equal(1UL, c[2].Leader);
    }

    [Fact]
    public void A_wrong_report_keeps_one_follower_from_its_running_leader_for_an_election_timeout_and_disturbs_no_one()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c[3].ReportPeerDown(1); // the leader is in fact running

        // For an election timeout member 3 takes the leader's heartbeats for ones sent before a
        // crash, and campaigns; member 2 and the leader hear from a leader and do not answer.
        c.Tick(c.ElectionTicks - 1);
        Assert.Contains(c.Delivered, m => m.Type == MessageType.MsgPreVote && m.From == 3);
        Assert.DoesNotContain(c.Delivered, m => m.Type == MessageType.MsgPreVoteResp && m.To == 3 && !m.Reject);
        Assert.Equal(0UL, c[3].Leader);
        Assert.Equal(RaftRole.Leader, c[1].Role);
        Assert.All(c.Ids, id => Assert.Equal(1UL, c[id].Term));

        // Then the leader's heartbeats are believed again, and member 3 waits whole election timeouts.
        c.Tick(2);
        Assert.Equal(RaftRole.Follower, c[3].Role);
        Assert.Equal(1UL, c[3].Leader);
        var preVotes = c.Delivered.Count(m => m.Type == MessageType.MsgPreVote && m.From == 3);
        c.Tick(c.ElectionTicks - 1, 3);
        Assert.Equal(preVotes, c.Delivered.Count(m => m.Type == MessageType.MsgPreVote && m.From == 3));
    }

    [Fact]
    public void Two_followers_that_campaign_at_once_after_the_report_split_the_vote_and_retry_within_a_few_heartbeats()
    {
        var c = new TestCluster(3);
        c.Elect(1);
        c.Isolate(1);
        c[2].ReportPeerDown(1);
        c[3].ReportPeerDown(1);

        // Both campaign in the same instant: each grants the other's pre-vote, then votes for itself.
        c[2].Campaign();
        c[3].Campaign();
        c.Stabilize();
        Assert.Equal(RaftRole.Candidate, c[2].Role);
        Assert.Equal(RaftRole.Candidate, c[3].Role);
        Assert.Equal(2UL, c[2].Term);

        // A normal election timeout is at least 10 ticks; a quick one is 2-3, retried until one wins.
        for (var tick = 0; tick < c.ElectionTicks - 1 && c.Leader is 0 or 1; tick++) c.Tick(1, 2, 3);
        Assert.Contains(c.Leader, new ulong[] { 2, 3 });
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
