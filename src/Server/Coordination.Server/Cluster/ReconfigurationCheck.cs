using Coordination.Server.Apply.Protocol;
using Coordination.Server.Errors;

namespace Coordination.Server.Cluster;

/// <summary>
/// etcd's strict reconfiguration check (<c>--strict-reconfig-check</c>, on by default): a membership
/// change is refused when it could leave the cluster without a working quorum. A member has
/// <em>started</em> once it has published its name (it has run at least once); a peer is
/// <em>connected</em> when the member taking the request has had an open peer stream to it for at
/// least <see cref="HealthInterval"/> (the member itself always counts).
/// </summary>
internal static class ReconfigurationCheck
{
    /// <summary>How long a peer must have been reachable to count as connected (etcd's HealthInterval).</summary>
    public static readonly TimeSpan HealthInterval = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Adding a member: a voter needs a quorum of started voters once it is counted (except the second
    /// member of a cluster of one), and every voter must be connected, learner or not.
    /// </summary>
    public static EtcdError? Add(ulong self, IReadOnlyCollection<MemberRecord> members, bool learner, Func<ulong, DateTimeOffset?> activeSince, DateTimeOffset now)
    {
        var voters = Voters(members);
        if (!learner)
        {
            var total = voters.Count + 1;
            var started = voters.Count(IsStarted);
            var secondOfOne = started == 1 && total == 2;
            if (!secondOfOne && started < total / 2 + 1) return EtcdErrors.NotEnoughStartedMembers;
        }
        return Connected(self, voters, activeSince, now) < voters.Count ? EtcdErrors.Unhealthy : null;
    }

    /// <summary>
    /// Removing a voter: the voters left must hold a quorum of started members; a voter this member
    /// cannot reach is safe to remove, any other only if the connected voters, less the one removed,
    /// still make a quorum of the current voters. Learners are removed unchecked.
    /// </summary>
    public static EtcdError? Remove(ulong self, IReadOnlyCollection<MemberRecord> members, ulong id, Func<ulong, DateTimeOffset?> activeSince, DateTimeOffset now)
    {
        if (members.FirstOrDefault(m => m.Id == id) is not { IsLearner: false }) return null;
        var voters = Voters(members);
        var rest = voters.Where(m => m.Id != id).ToList();
        if (rest.Count(IsStarted) < rest.Count / 2 + 1) return EtcdErrors.NotEnoughStartedMembers;
        if (id != self && activeSince(id) is null) return null;
        var active = Connected(self, voters, activeSince, now);
        return active - 1 < 1 + (voters.Count - 1) / 2 ? EtcdErrors.Unhealthy : null;
    }

    /// <summary>Promoting a learner: counting it as a started voter, the voters must hold a quorum of started members.</summary>
    public static EtcdError? Promote(IReadOnlyCollection<MemberRecord> members)
    {
        var voters = Voters(members);
        var total = voters.Count + 1;
        var started = voters.Count(IsStarted) + 1;
        return started < total / 2 + 1 ? EtcdErrors.NotEnoughStartedMembers : null;
    }

    private static List<MemberRecord> Voters(IReadOnlyCollection<MemberRecord> members) => members.Where(m => !m.IsLearner).ToList();

    private static bool IsStarted(MemberRecord member) => member.Name.Length > 0;

    private static int Connected(ulong self, List<MemberRecord> voters, Func<ulong, DateTimeOffset?> activeSince, DateTimeOffset now) =>
        voters.Count(m => m.Id == self || activeSince(m.Id) is { } since && since <= now - HealthInterval);
}
