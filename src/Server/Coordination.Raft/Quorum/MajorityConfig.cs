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
    /// The highest index that a majority of voters has acknowledged, given each voter's
    /// acknowledged index in <paramref name="acknowledged"/> (sorted in place): the element at
    /// position n/2 in descending order. With no voters it is <see cref="ulong.MaxValue"/>
    /// (nothing constrains commitment).
    /// </summary>
    public static ulong CommittedIndex(Span<ulong> acknowledged)
    {
        if (acknowledged.Length == 0) return ulong.MaxValue;
        acknowledged.Sort();
        // Ascending order: the element at n - (n/2 + 1) is acknowledged by n/2 + 1 voters.
        return acknowledged[acknowledged.Length - (acknowledged.Length / 2 + 1)];
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

    /// <summary>True when <paramref name="count"/> of <paramref name="voters"/> voters form a majority.</summary>
    public static bool IsQuorum(int count, int voters) => count >= voters / 2 + 1;
}
