namespace Coordination.Testing.Linearizability;

/// <summary>The verdict on a history.</summary>
public enum Verdict
{
    /// <summary>Some order of the operations respects real time and the model.</summary>
    Linearizable,

    /// <summary>No such order exists.</summary>
    NotLinearizable,

    /// <summary>The search exceeded its budget before deciding.</summary>
    Unknown,
}

/// <summary>The verdict and, when not linearizable, the part of the history that is not.</summary>
/// <param name="Verdict">The verdict.</param>
/// <param name="Partition">The partition (key) that failed, if any.</param>
/// <param name="Explanation">The failing partition's operations in call order, for a report.</param>
public sealed record CheckResult(Verdict Verdict, string? Partition = null, string? Explanation = null)
{
    /// <summary>True when the history is linearizable.</summary>
    public bool IsLinearizable => Verdict == Verdict.Linearizable;
}
