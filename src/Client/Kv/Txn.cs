using Etcdserverpb;

namespace Coordination.Client.Kv;

/// <summary>
/// A transaction: if every comparison in <see cref="If"/> holds, the <see cref="Then"/> operations
/// run, else the <see cref="Else"/> operations, atomically at one revision. Obtain one bound to a
/// client with <see cref="IKvClient.Txn"/> and finish with <see cref="CommitAsync"/>, or create one
/// with <c>new Txn()</c> to nest it (<see cref="TxnOp.Nested"/>).
/// </summary>
public sealed class Txn
{
    private readonly IKvClient? _client;
    private readonly List<TxnCompare> _compares = [];
    private readonly List<TxnOp> _success = [];
    private readonly List<TxnOp> _failure = [];

    /// <summary>An unbound transaction, for nesting.</summary>
    public Txn()
    {
    }

    internal Txn(IKvClient client) => _client = client;

    /// <summary>Adds comparisons; all must hold for the <see cref="Then"/> branch.</summary>
    public Txn If(params TxnCompare[] compares)
    {
        _compares.AddRange(compares);
        return this;
    }

    /// <summary>Adds operations to run when every comparison holds.</summary>
    public Txn Then(params TxnOp[] operations)
    {
        _success.AddRange(operations);
        return this;
    }

    /// <summary>Adds operations to run when a comparison fails.</summary>
    public Txn Else(params TxnOp[] operations)
    {
        _failure.AddRange(operations);
        return this;
    }

    /// <summary>Sends the transaction. A transaction is a write: after an ambiguous failure it throws
    /// <see cref="EtcdOutcomeUnknownException"/> rather than sending it again.</summary>
    public Task<TxnResult> CommitAsync(CancellationToken cancellationToken = default) =>
        (_client ?? throw new InvalidOperationException("This transaction is not bound to a client; use IKvClient.Txn() or IKvClient.CommitAsync."))
            .CommitAsync(this, cancellationToken);

    internal TxnRequest ToRequest()
    {
        var request = new TxnRequest();
        request.Compare.AddRange(_compares.Select(c => c.Proto.Clone()));
        request.Success.AddRange(_success.Select(o => o.Proto.Clone()));
        request.Failure.AddRange(_failure.Select(o => o.Proto.Clone()));
        return request;
    }

    /// <summary>Whether every operation, nested ones included, only reads (such a transaction is safe to retry).</summary>
    internal static bool IsReadOnly(TxnRequest request) =>
        request.Success.Concat(request.Failure).All(op => op.RequestCase switch
        {
            RequestOp.RequestOneofCase.RequestRange => true,
            RequestOp.RequestOneofCase.RequestTxn => IsReadOnly(op.RequestTxn),
            _ => false,
        });
}

/// <summary>The answer to a transaction.</summary>
/// <param name="Header">Revision after the transaction.</param>
/// <param name="Succeeded">Whether every comparison held (the Then branch ran).</param>
/// <param name="Results">One result per operation of the branch that ran, in order.</param>
public sealed record TxnResult(ResponseHeader Header, bool Succeeded, IReadOnlyList<TxnOpResult> Results)
{
    internal static TxnResult From(TxnResponse r) =>
        new(ResponseHeader.From(r.Header), r.Succeeded, [.. r.Responses.Select(TxnOpResult.From)]);
}

/// <summary>The result of one transaction operation: exactly one property is set.</summary>
/// <param name="Range">For a get.</param>
/// <param name="Put">For a put.</param>
/// <param name="Delete">For a delete.</param>
/// <param name="Txn">For a nested transaction.</param>
public sealed record TxnOpResult(RangeResult? Range, PutResult? Put, DeleteResult? Delete, TxnResult? Txn)
{
    internal static TxnOpResult From(ResponseOp op) => op.ResponseCase switch
    {
        ResponseOp.ResponseOneofCase.ResponseRange => new(RangeResult.From(op.ResponseRange), null, null, null),
        ResponseOp.ResponseOneofCase.ResponsePut => new(null, PutResult.From(op.ResponsePut), null, null),
        ResponseOp.ResponseOneofCase.ResponseDeleteRange => new(null, null, DeleteResult.From(op.ResponseDeleteRange), null),
        ResponseOp.ResponseOneofCase.ResponseTxn => new(null, null, null, TxnResult.From(op.ResponseTxn)),
        _ => new(null, null, null, null),
    };
}
