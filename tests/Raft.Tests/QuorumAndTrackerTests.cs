using Coordination.Raft.Quorum;
using Coordination.Raft.Tracker;

namespace Coordination.Raft.Tests;

/// <summary>The pure arithmetic under the core: majorities, vote tallies, flow control and follower progress.</summary>
public class QuorumAndTrackerTests
{
    [Theory]
    [InlineData(new ulong[] { 7 }, 7UL)]
    [InlineData(new ulong[] { 5, 9, 1 }, 5UL)]
    [InlineData(new ulong[] { 5, 9, 1, 3 }, 3UL)]
    [InlineData(new ulong[] { 2, 8, 8, 1, 4 }, 4UL)]
    public void The_committed_index_is_the_highest_index_a_majority_acknowledged(ulong[] acks, ulong expected)
    {
        Assert.Equal(expected, MajorityConfig.CommittedIndex(acks.ToArray()));
    }

    [Fact]
    public void The_tracker_keeps_members_in_id_order_through_additions_promotions_and_removals()
    {
        var tracker = new ProgressTracker(maxInflight: 4);
        tracker.AddVoter(5, next: 1);
        tracker.AddLearner(2, next: 1);
        tracker.AddVoter(9, next: 1);
        tracker.AddVoter(1, next: 1);
        Assert.Equal([1UL, 5, 9], tracker.Voters);
        Assert.Equal([2UL], tracker.Learners);
        Assert.Equal([1UL, 2, 5, 9], Ids(tracker));

        tracker.AddVoter(2, next: 1);
        Assert.Equal([1UL, 2, 5, 9], tracker.Voters);
        Assert.Empty(tracker.Learners);
        Assert.False(tracker.Get(2)!.IsLearner);

        tracker.Remove(5);
        Assert.Equal([1UL, 2, 9], Ids(tracker));
        Assert.Null(tracker.Get(5));
        Assert.False(tracker.IsVoter(5));

        tracker.Get(1)!.MaybeUpdate(7);
        tracker.Get(2)!.MaybeUpdate(4);
        tracker.Get(9)!.MaybeUpdate(9);
        Assert.Equal(7UL, tracker.CommittedIndex());
        Assert.True(tracker.IsQuorum([1, 9]));
        Assert.False(tracker.IsQuorum([9, 5]));
    }

    private static List<ulong> Ids(ProgressTracker tracker)
    {
        var ids = new List<ulong>();
        foreach (var (id, _) in tracker.All) ids.Add(id);
        return ids;
    }

    [Fact]
    public void A_vote_is_won_by_a_majority_lost_when_a_majority_is_impossible_and_pending_otherwise()
    {
        ulong[] voters = [1, 2, 3, 4, 5];
        Assert.Equal(VoteResult.Pending, MajorityConfig.Tally(voters, new Dictionary<ulong, bool> { [1] = true, [2] = true }));
        Assert.Equal(VoteResult.Won, MajorityConfig.Tally(voters, new Dictionary<ulong, bool> { [1] = true, [2] = true, [4] = true }));
        Assert.Equal(VoteResult.Pending, MajorityConfig.Tally(voters, new Dictionary<ulong, bool> { [1] = true, [2] = false, [3] = false }));
        Assert.Equal(VoteResult.Lost, MajorityConfig.Tally(voters, new Dictionary<ulong, bool> { [1] = true, [2] = false, [3] = false, [5] = false }));
        // Votes from non-voters do not count.
        Assert.Equal(VoteResult.Pending, MajorityConfig.Tally(voters, new Dictionary<ulong, bool> { [1] = true, [8] = true, [9] = true }));
    }

    [Fact]
    public void In_flight_appends_fill_a_window_and_acknowledgements_free_it_in_order_across_the_ring()
    {
        var inflights = new Inflights(3);
        inflights.Add(10);
        inflights.Add(20);
        inflights.Add(30);
        Assert.True(inflights.Full);
        inflights.FreeLE(20);
        Assert.Equal(1, inflights.Count);
        inflights.Add(40);
        inflights.Add(50);
        Assert.True(inflights.Full);
        inflights.FreeLE(45);
        Assert.Equal(1, inflights.Count);
        inflights.FreeFirstOne();
        Assert.Equal(0, inflights.Count);
    }

    [Fact]
    public void A_probing_leader_ignores_stale_rejections_and_never_goes_below_the_match()
    {
        var pr = new Progress(next: 11, maxInflight: 4, isLearner: false);
        pr.MaybeUpdate(5);
        pr.SentEntries(0, 10);
        Assert.True(pr.IsPaused);
        // A rejection of an older probe changes nothing.
        Assert.False(pr.MaybeDecreaseTo(rejected: 7, hint: 3));
        Assert.True(pr.MaybeDecreaseTo(rejected: 10, hint: 2));
        Assert.Equal(6UL, pr.Next);
        Assert.False(pr.IsPaused);
    }

    [Fact]
    public void A_replicating_leader_streams_optimistically_and_falls_back_to_the_match_on_rejection()
    {
        var pr = new Progress(next: 1, maxInflight: 2, isLearner: false);
        pr.MaybeUpdate(3);
        pr.BecomeReplicate();
        pr.SentEntries(2, 5);
        pr.SentEntries(2, 7);
        Assert.Equal(8UL, pr.Next);
        Assert.True(pr.IsPaused);
        Assert.False(pr.MaybeDecreaseTo(rejected: 2, hint: 2));
        Assert.True(pr.MaybeDecreaseTo(rejected: 5, hint: 4));
        Assert.Equal(4UL, pr.Next);
    }
}
