namespace Coordination.Client.Kv;

/// <summary>The answer to a range read.</summary>
/// <param name="Header">Revision and member that answered.</param>
/// <param name="Kvs">The keys read, in the requested order.</param>
/// <param name="More">Whether more keys matched than the limit allowed.</param>
/// <param name="Count">How many keys matched in total.</param>
public sealed record RangeResult(ResponseHeader Header, IReadOnlyList<KeyValue> Kvs, bool More, long Count)
{
    internal static RangeResult From(Etcdserverpb.RangeResponse r) =>
        new(ResponseHeader.From(r.Header), [.. r.Kvs.Select(kv => new KeyValue(kv))], r.More, r.Count);
}

/// <summary>The answer to a put.</summary>
/// <param name="Header">Revision of the put.</param>
/// <param name="Previous">The key before the put, when asked for and the key existed.</param>
public sealed record PutResult(ResponseHeader Header, KeyValue? Previous)
{
    internal static PutResult From(Etcdserverpb.PutResponse r) => new(ResponseHeader.From(r.Header), KeyValue.From(r.PrevKv));
}

/// <summary>The answer to a delete.</summary>
/// <param name="Header">Revision after the delete.</param>
/// <param name="Deleted">How many keys were deleted.</param>
/// <param name="Previous">The deleted keys, when asked for.</param>
public sealed record DeleteResult(ResponseHeader Header, long Deleted, IReadOnlyList<KeyValue> Previous)
{
    internal static DeleteResult From(Etcdserverpb.DeleteRangeResponse r) =>
        new(ResponseHeader.From(r.Header), r.Deleted, [.. r.PrevKvs.Select(kv => new KeyValue(kv))]);
}

/// <summary>Key order of a range read.</summary>
public enum SortOrder
{
    /// <summary>Key order (the server's default).</summary>
    None = 0,

    /// <summary>Ascending by <see cref="RangeOptions.SortTarget"/>.</summary>
    Ascending = 1,

    /// <summary>Descending by <see cref="RangeOptions.SortTarget"/>.</summary>
    Descending = 2,
}

/// <summary>What a range read sorts on.</summary>
public enum SortTarget
{
    /// <summary>The key.</summary>
    Key = 0,

    /// <summary>The version.</summary>
    Version = 1,

    /// <summary>The create revision.</summary>
    CreateRevision = 2,

    /// <summary>The mod revision.</summary>
    ModRevision = 3,

    /// <summary>The value.</summary>
    Value = 4,
}

/// <summary>Options of a range read.</summary>
public sealed record RangeOptions
{
    /// <summary>At most this many keys; 0 for no limit.</summary>
    public long Limit { get; init; }

    /// <summary>Read at this revision; 0 for the latest.</summary>
    public long Revision { get; init; }

    /// <summary>Serve from the answering member's state without a quorum round (may be stale).</summary>
    public bool Serializable { get; init; }

    /// <summary>Return keys without values.</summary>
    public bool KeysOnly { get; init; }

    /// <summary>Return only the count.</summary>
    public bool CountOnly { get; init; }

    /// <summary>Sort order.</summary>
    public SortOrder SortOrder { get; init; }

    /// <summary>Sort key.</summary>
    public SortTarget SortTarget { get; init; }
}

/// <summary>Options of a put.</summary>
public sealed record PutOptions
{
    /// <summary>Attach the key to this lease (0: none).</summary>
    public long Lease { get; init; }

    /// <summary>Return the key as it was before the put.</summary>
    public bool PrevKv { get; init; }

    /// <summary>Keep the current value (update only the lease).</summary>
    public bool IgnoreValue { get; init; }

    /// <summary>Keep the current lease (update only the value).</summary>
    public bool IgnoreLease { get; init; }
}

/// <summary>Options of a delete.</summary>
public sealed record DeleteOptions
{
    /// <summary>Return the deleted keys.</summary>
    public bool PrevKv { get; init; }
}
