using System.Text;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Compatibility.Tests.Durability;

/// <summary>What one key should look like: its value and the three numbers etcd keeps for it.</summary>
internal sealed record KeyState(string Value, long CreateRevision, long ModRevision, long Version)
{
    public override string ToString() => $"value={Abbrev(Value)} create={CreateRevision} mod={ModRevision} version={Version}";

    private static string Abbrev(string value) => value.Length <= 40 ? value : $"{value[..30]}…({value.Length} chars)";
}

/// <summary>One mutation a writer sends. Each writer owns its keys, so the expected outcome of an
/// operation (deleted count, txn branch) is known from the model before it is sent.</summary>
internal abstract record CrashOp
{
    public abstract string Describe();
}

internal sealed record PutOp(string Key, string Value) : CrashOp
{
    public override string Describe() => $"put {Key} ({Value.Length} chars)";
}

internal sealed record DeleteOp(string Key) : CrashOp
{
    public override string Describe() => $"delete {Key}";
}

/// <summary>Txn: if <see cref="CompareKey"/>'s target (version or mod revision) equals
/// <see cref="CompareValue"/> then put the success puts and delete <see cref="SuccessDelete"/>,
/// else put <see cref="FailurePut"/>.</summary>
internal sealed record TxnOp(
    string CompareKey,
    Compare.Types.CompareTarget Target,
    long CompareValue,
    IReadOnlyList<(string Key, string Value)> SuccessPuts,
    string SuccessDelete,
    (string Key, string Value) FailurePut) : CrashOp
{
    public override string Describe() =>
        $"txn if {Target}({CompareKey})=={CompareValue} then put {string.Join(",", SuccessPuts.Select(p => p.Key))}, delete {SuccessDelete} else put {FailurePut.Key}";
}

/// <summary>
/// The expected state of one writer's keys, built only from acknowledged writes (plus an in-flight
/// write once the state after a crash shows that it was applied).
/// </summary>
internal sealed class CrashModel
{
    private readonly Dictionary<string, KeyState> _keys;

    public CrashModel() => _keys = new(StringComparer.Ordinal);

    private CrashModel(Dictionary<string, KeyState> keys) => _keys = new(keys, StringComparer.Ordinal);

    public IReadOnlyDictionary<string, KeyState> Keys => _keys;

    public CrashModel Clone() => new(_keys);

    public bool Contains(string key) => _keys.ContainsKey(key);

    /// <summary>The txn's compare as etcd evaluates it (a missing key has version 0 and mod revision 0).</summary>
    public bool Evaluate(TxnOp txn)
    {
        _keys.TryGetValue(txn.CompareKey, out var state);
        var actual = txn.Target == Compare.Types.CompareTarget.Version ? state?.Version ?? 0 : state?.ModRevision ?? 0;
        return actual == txn.CompareValue;
    }

    /// <summary>Keys the op puts (in the branch the model predicts).</summary>
    public IReadOnlyList<string> PutKeys(CrashOp op) => op switch
    {
        PutOp put => [put.Key],
        DeleteOp => [],
        TxnOp txn => Evaluate(txn) ? txn.SuccessPuts.Select(p => p.Key).ToList() : [txn.FailurePut.Key],
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>Applies the op at <paramref name="revision"/>.</summary>
    public void Apply(CrashOp op, long revision)
    {
        switch (op)
        {
            case PutOp put:
                Put(put.Key, put.Value, revision);
                break;
            case DeleteOp delete:
                _keys.Remove(delete.Key);
                break;
            case TxnOp txn when Evaluate(txn):
                foreach (var (key, value) in txn.SuccessPuts)
                {
                    Put(key, value, revision);
                }

                _keys.Remove(txn.SuccessDelete);
                break;
            case TxnOp txn:
                Put(txn.FailurePut.Key, txn.FailurePut.Value, revision);
                break;
        }
    }

    private void Put(string key, string value, long revision)
    {
        _keys[key] = _keys.TryGetValue(key, out var old)
            ? old with { Value = value, ModRevision = revision, Version = old.Version + 1 }
            : new KeyState(value, revision, revision, 1);
    }

    /// <summary>Differences between this model and an observed state, empty when equal.</summary>
    public List<string> Diff(IReadOnlyDictionary<string, KeyState> actual)
    {
        var diffs = new List<string>();
        foreach (var (key, expected) in _keys.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            if (!actual.TryGetValue(key, out var got))
            {
                diffs.Add($"{key}: expected {expected}, missing");
            }
            else if (got != expected)
            {
                diffs.Add($"{key}: expected {expected}, got {got}");
            }
        }

        foreach (var (key, got) in actual.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            if (!_keys.ContainsKey(key))
            {
                diffs.Add($"{key}: expected absent, got {got}");
            }
        }

        return diffs;
    }

    /// <summary>The request for an op.</summary>
    public static TxnRequest ToRequest(TxnOp txn)
    {
        var request = new TxnRequest();
        var compare = new Compare
        {
            Key = Bytes(txn.CompareKey),
            Result = Compare.Types.CompareResult.Equal,
            Target = txn.Target,
        };
        if (txn.Target == Compare.Types.CompareTarget.Version)
        {
            compare.Version = txn.CompareValue;
        }
        else
        {
            compare.ModRevision = txn.CompareValue;
        }

        request.Compare.Add(compare);
        foreach (var (key, value) in txn.SuccessPuts)
        {
            request.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = Bytes(key), Value = Bytes(value) } });
        }

        request.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = Bytes(txn.SuccessDelete) } });
        request.Failure.Add(new RequestOp { RequestPut = new PutRequest { Key = Bytes(txn.FailurePut.Key), Value = Bytes(txn.FailurePut.Value) } });
        return request;
    }

    public static ByteString Bytes(string s) => ByteString.CopyFrom(Encoding.UTF8.GetBytes(s));
}
