namespace Coordination.Testing.Linearizability;

/// <summary>Kinds of key-value operations the <see cref="KvModel"/> knows.</summary>
public enum KvOp
{
    /// <summary>Read a key.</summary>
    Get,

    /// <summary>Write a key.</summary>
    Put,
}

/// <summary>A key-value request.</summary>
/// <param name="Op">Get or put.</param>
/// <param name="Key">The key.</param>
/// <param name="Value">The value to write (put only).</param>
public sealed record KvInput(KvOp Op, string Key, string? Value = null)
{
    /// <inheritdoc/>
    public override string ToString() => Op == KvOp.Put ? $"put({Key}={Value})" : $"get({Key})";
}

/// <summary>
/// A register per key: a put sets the value, a get must return the current value (null when the
/// key was never written). Partitioned by key.
/// </summary>
public static class KvModel
{
    /// <summary>The model, for <see cref="LinearizabilityChecker"/>.</summary>
    public static Model<string?, KvInput, string?> Instance { get; } = new(
        initial: null,
        step: (state, input, output, unknown) => input.Op switch
        {
            KvOp.Put => (true, input.Value),
            // A read with an unknown outcome constrains nothing.
            _ => (unknown || output == state, state),
        },
        partition: input => input.Key,
        describe: (input, output, unknown) => unknown ? $"{input} -> ?" : input.Op == KvOp.Get ? $"{input} -> {output ?? "<none>"}" : $"{input} -> ok",
        reduce: DropUnobservedUnknownWrites);

    /// <summary>
    /// A write with an unknown outcome whose value no completed read returned can be left out:
    /// taking effect could only make some read's value wrong, never right, so "never applied" is
    /// always at least as good. Each such write would otherwise stay open until the end of the
    /// history and multiply the search.
    /// </summary>
    private static IReadOnlyList<Operation<KvInput, string?>> DropUnobservedUnknownWrites(IReadOnlyList<Operation<KvInput, string?>> ops)
    {
        var observed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var op in ops)
        {
            if (op.Input.Op == KvOp.Get && !op.OutcomeUnknown && op.Output is not null) observed.Add(op.Output);
        }
        return ops.Where(op => !(op.OutcomeUnknown && op.Input.Op == KvOp.Put && !observed.Contains(op.Input.Value!))).ToList();
    }
}
