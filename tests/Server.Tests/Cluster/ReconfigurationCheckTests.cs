using Coordination.Server.Apply.Protocol;
using Coordination.Server.Cluster;
using Coordination.Server.Errors;

namespace Coordination.Server.Tests.Cluster;

/// <summary>etcd's strict reconfiguration rules, as this member sees its peers.</summary>
public sealed class ReconfigurationCheckTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset LongAgo = Now - TimeSpan.FromMinutes(1);

    [Fact]
    public void Adding_a_voter_to_a_healthy_cluster_is_allowed()
    {
        var members = Members(Voter(1), Voter(2), Voter(3));
        Assert.Null(ReconfigurationCheck.Add(1, members, learner: false, Connected(2, 3), Now));
    }

    [Fact]
    public void Adding_any_member_while_a_voter_is_unreachable_is_an_unhealthy_cluster()
    {
        var members = Members(Voter(1), Voter(2), Voter(3));
        Assert.Same(EtcdErrors.Unhealthy, ReconfigurationCheck.Add(1, members, learner: false, Connected(2), Now));
        Assert.Same(EtcdErrors.Unhealthy, ReconfigurationCheck.Add(1, members, learner: true, Connected(2), Now));
    }

    [Fact]
    public void A_peer_reached_only_moments_ago_does_not_count_as_connected()
    {
        var members = Members(Voter(1), Voter(2));
        DateTimeOffset? Recent(ulong id) => Now - TimeSpan.FromSeconds(1);
        Assert.Same(EtcdErrors.Unhealthy, ReconfigurationCheck.Add(1, members, learner: false, Recent, Now));
        DateTimeOffset? Settled(ulong id) => Now - ReconfigurationCheck.HealthInterval;
        Assert.Null(ReconfigurationCheck.Add(1, members, learner: false, Settled, Now));
    }

    [Fact]
    public void Adding_a_voter_needs_a_quorum_of_started_members_counting_the_new_one()
    {
        // Two voters added but never started: with the fourth, 1 started of 4 is no quorum.
        var members = Members(Voter(1), Voter(2, started: false), Voter(3, started: false));
        Assert.Same(EtcdErrors.NotEnoughStartedMembers, ReconfigurationCheck.Add(1, members, learner: false, Connected(2, 3), Now));
        // A learner does not change the quorum.
        Assert.Null(ReconfigurationCheck.Add(1, members, learner: true, Connected(2, 3), Now));
    }

    [Fact]
    public void A_cluster_of_one_may_add_its_second_member()
    {
        Assert.Null(ReconfigurationCheck.Add(1, Members(Voter(1)), learner: false, Connected(), Now));
    }

    [Fact]
    public void Removing_an_unreachable_member_is_allowed()
    {
        var members = Members(Voter(1), Voter(2), Voter(3));
        Assert.Null(ReconfigurationCheck.Remove(1, members, 3, Connected(2), Now));
    }

    [Fact]
    public void Removing_a_reachable_member_while_another_is_down_would_lose_the_quorum()
    {
        var members = Members(Voter(1), Voter(2), Voter(3));
        Assert.Same(EtcdErrors.Unhealthy, ReconfigurationCheck.Remove(1, members, 2, Connected(2), Now));
        Assert.Same(EtcdErrors.Unhealthy, ReconfigurationCheck.Remove(1, members, 1, Connected(2), Now));
        Assert.Null(ReconfigurationCheck.Remove(1, members, 2, Connected(2, 3), Now));
    }

    [Fact]
    public void Removing_a_voter_needs_the_rest_to_hold_a_quorum_of_started_members()
    {
        var members = Members(Voter(1), Voter(2), Voter(3, started: false));
        Assert.Same(EtcdErrors.NotEnoughStartedMembers, ReconfigurationCheck.Remove(1, members, 2, Connected(2, 3), Now));
    }

    [Fact]
    public void Learners_are_removed_unchecked()
    {
        var members = Members(Voter(1), Voter(2), Learner(4));
        Assert.Null(ReconfigurationCheck.Remove(1, members, 4, Connected(4), Now));
    }

    [Fact]
    public void Promoting_needs_a_quorum_of_started_voters_counting_the_learner()
    {
        Assert.Null(ReconfigurationCheck.Promote(Members(Voter(1), Voter(2), Voter(3, started: false), Learner(4))));
        Assert.Same(EtcdErrors.NotEnoughStartedMembers,
            ReconfigurationCheck.Promote(Members(Voter(1), Voter(2, started: false), Voter(3, started: false), Learner(4))));
    }

    private static Func<ulong, DateTimeOffset?> Connected(params ulong[] peers) => id => peers.Contains(id) ? LongAgo : null;

    private static List<MemberRecord> Members(params MemberRecord[] members) => [.. members];

    private static MemberRecord Voter(ulong id, bool started = true) => new() { Id = id, Name = started ? $"m{id}" : "" };

    private static MemberRecord Learner(ulong id) => new() { Id = id, Name = $"m{id}", IsLearner = true };
}
