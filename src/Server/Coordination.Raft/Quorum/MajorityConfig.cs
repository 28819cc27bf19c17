using System;
using System.Collections.Generic;

namespace Coordination.Raft.Quorum;

/// <summary>Outcome of counting votes in an election.</summary>
internal enum VoteResult
{
    /// <summary>Not yet decided: some voters have not answered.</summary>
    Pending,

    /// <summary>A majority refused.</summary>
    Lost,

    /// <summary>A majority granted.</summary>
    Won,
}

/// <summary>
/// Majority arithmetic over one set of voters: which index a majority has reached, and whether a
/// majority granted a vote. Pure functions; the caller owns the data.
/// </summary>
internal static class MajorityConfig
{
    /// <summary>
    /// The highest index that a majority of <paramref name="voters"/> has acknowledged: sort the
    /// acknowledged indexes in descending order and take the one at position n/2.
    /// With no voters it is <see cref="ulong.MaxValue"/> (nothing constrains commitment).
    /// </summary>
    public static ulong CommittedIndex(IReadOnlyCollection<ulong> voters, Func<ulong, ulong> acknowledged)
    {
        if (voters.Count == 0) return ulong.MaxValue;
        Span<ulong> acks = voters.Count <= 16 ? stackalloc ulong[voters.Count] : new ulong[voters.Count];
        var i = 0;
        foreach (var id in voters) acks[i++] = acknowledged(id);
        acks.Sort();
        // Ascending order: the element at n - (n/2 + 1) is acknowledged by n/2 + 1 voters.
        return acks[voters.Count - (voters.Count / 2 + 1)];
    }

    /// <summary>Counts the votes cast so far; a voter missing from <paramref name="votes"/> has not answered.</summary>
    public static VoteResult Tally(IReadOnlyCollection<ulong> voters, IReadOnlyDictionary<ulong, bool> votes)
    {
        if (voters.Count == 0) return VoteResult.Won;
        int granted = 0, refused = 0;
        foreach (var id in voters)
        {
            if (!votes.TryGetValue(id, out var v)) continue;
            if (v) granted++; else refused++;
        }
        var quorum = voters.Count / 2 + 1;
        if (granted >= quorum) return VoteResult.Won;
        if (voters.Count - refused >= quorum) return VoteResult.Pending;
        return VoteResult.Lost;
    }

    /// <summary>True when the members for which <paramref name="isSet"/> holds form a majority.</summary>
    public static bool HasQuorum(IReadOnlyCollection<ulong> voters, Func<ulong, bool> isSet)
    {
        var count = 0;
        foreach (var id in voters) if (isSet(id)) count++;
        return count >= voters.Count / 2 + 1;
    }
}
