namespace Coordination.Testing.Linearizability;

/// <summary>
/// One client operation in a recorded history: what was asked, what came back, and when (in any
/// monotonic unit, e.g. virtual milliseconds or ticks of a stopwatch).
/// </summary>
/// <typeparam name="TInput">The request.</typeparam>
/// <typeparam name="TOutput">The response.</typeparam>
/// <param name="ClientId">Who issued it (for reports only).</param>
/// <param name="Input">The request.</param>
/// <param name="Output">The response; ignored when <see cref="OutcomeUnknown"/>.</param>
/// <param name="Call">When the request was issued.</param>
/// <param name="Return">When the response arrived; ignored when <see cref="OutcomeUnknown"/>.</param>
/// <param name="OutcomeUnknown">
/// No response arrived (timeout, crash, lost connection): the operation may have taken effect at
/// any point after <see cref="Call"/>, or never. Its return is treated as lying after every other event.
/// </param>
public sealed record Operation<TInput, TOutput>(int ClientId, TInput Input, TOutput Output, long Call, long Return, bool OutcomeUnknown = false)
{
    /// <summary>The effective return time: the end of time for an operation with an unknown outcome.</summary>
    public long EffectiveReturn => OutcomeUnknown ? long.MaxValue : Return;
}
