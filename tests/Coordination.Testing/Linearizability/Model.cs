namespace Coordination.Testing.Linearizability;

/// <summary>
/// A sequential specification: the state before any operation, how an operation moves the state
/// (and whether its response is allowed from that state), and how a history splits into
/// independent parts (e.g. one per key) that are checked separately.
/// </summary>
/// <typeparam name="TState">An immutable state with value equality (it is used as a memo key).</typeparam>
/// <typeparam name="TInput">The request.</typeparam>
/// <typeparam name="TOutput">The response.</typeparam>
public sealed class Model<TState, TInput, TOutput>
{
    /// <summary>Creates a model.</summary>
    public Model(TState initial, Func<TState, TInput, TOutput, bool, (bool Legal, TState Next)> step, Func<TInput, string> partition,
        Func<TInput, TOutput, bool, string>? describe = null,
        Func<IReadOnlyList<Operation<TInput, TOutput>>, IReadOnlyList<Operation<TInput, TOutput>>>? reduce = null)
    {
        Reduce = reduce ?? (ops => ops);
        Initial = initial;
        Step = step;
        Partition = partition;
        Describe = describe ?? ((i, o, unknown) => unknown ? $"{i} -> ?" : $"{i} -> {o}");
    }

    /// <summary>The state before any operation.</summary>
    public TState Initial { get; }

    /// <summary>
    /// Applies an operation (input, output, outcome-unknown) to a state: whether the output is legal
    /// there and the next state. For an unknown outcome the output must be ignored.
    /// </summary>
    public Func<TState, TInput, TOutput, bool, (bool Legal, TState Next)> Step { get; }

    /// <summary>The independent part of the state an input touches (a key).</summary>
    public Func<TInput, string> Partition { get; }

    /// <summary>
    /// Removes operations from one partition that cannot change the verdict (e.g. writes with an
    /// unknown outcome that nothing observed), before the search, which is exponential in the
    /// number of operations open at once.
    /// </summary>
    public Func<IReadOnlyList<Operation<TInput, TOutput>>, IReadOnlyList<Operation<TInput, TOutput>>> Reduce { get; }

    /// <summary>Renders an operation for a failure report.</summary>
    public Func<TInput, TOutput, bool, string> Describe { get; }
}
