using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Client.Kv;

/// <summary>
/// A condition of a transaction, built fluently: <c>Compare.Version("k").Equal(0)</c>,
/// <c>Compare.Value("k").Equal("v")</c>, <c>Compare.ModRevision("k").Less(42)</c>,
/// <c>Compare.Lease("k").Equal(leaseId)</c>. <see cref="CompareOn.Prefix"/> widens it to every key
/// under the key as a prefix.
/// </summary>
public static class Compare
{
    /// <summary>Compare the value of <paramref name="key"/>.</summary>
    public static CompareOn Value(string key) => new(KeyRange.Utf8(key), Etcdserverpb.Compare.Types.CompareTarget.Value);

    /// <summary>Compare the value of <paramref name="key"/>.</summary>
    public static CompareOn Value(ReadOnlyMemory<byte> key) => new(KeyRange.Bytes(key), Etcdserverpb.Compare.Types.CompareTarget.Value);

    /// <summary>Compare the version of <paramref name="key"/> (0 when it does not exist).</summary>
    public static CompareOn Version(string key) => new(KeyRange.Utf8(key), Etcdserverpb.Compare.Types.CompareTarget.Version);

    /// <summary>Compare the version of <paramref name="key"/> (0 when it does not exist).</summary>
    public static CompareOn Version(ReadOnlyMemory<byte> key) => new(KeyRange.Bytes(key), Etcdserverpb.Compare.Types.CompareTarget.Version);

    /// <summary>Compare the create revision of <paramref name="key"/> (0 when it does not exist).</summary>
    public static CompareOn CreateRevision(string key) => new(KeyRange.Utf8(key), Etcdserverpb.Compare.Types.CompareTarget.Create);

    /// <summary>Compare the create revision of <paramref name="key"/> (0 when it does not exist).</summary>
    public static CompareOn CreateRevision(ReadOnlyMemory<byte> key) => new(KeyRange.Bytes(key), Etcdserverpb.Compare.Types.CompareTarget.Create);

    /// <summary>Compare the mod revision of <paramref name="key"/> (0 when it does not exist).</summary>
    public static CompareOn ModRevision(string key) => new(KeyRange.Utf8(key), Etcdserverpb.Compare.Types.CompareTarget.Mod);

    /// <summary>Compare the mod revision of <paramref name="key"/> (0 when it does not exist).</summary>
    public static CompareOn ModRevision(ReadOnlyMemory<byte> key) => new(KeyRange.Bytes(key), Etcdserverpb.Compare.Types.CompareTarget.Mod);

    /// <summary>Compare the lease attached to <paramref name="key"/> (0 when none).</summary>
    public static CompareOn Lease(string key) => new(KeyRange.Utf8(key), Etcdserverpb.Compare.Types.CompareTarget.Lease);

    /// <summary>Compare the lease attached to <paramref name="key"/> (0 when none).</summary>
    public static CompareOn Lease(ReadOnlyMemory<byte> key) => new(KeyRange.Bytes(key), Etcdserverpb.Compare.Types.CompareTarget.Lease);
}

/// <summary>The left side of a comparison; finish it with <see cref="Equal(long)"/>, <see cref="Greater(long)"/>, ...</summary>
public sealed class CompareOn
{
    private readonly ByteString _key;
    private readonly Etcdserverpb.Compare.Types.CompareTarget _target;
    private ByteString _rangeEnd = ByteString.Empty;

    internal CompareOn(ByteString key, Etcdserverpb.Compare.Types.CompareTarget target)
    {
        _key = key;
        _target = target;
    }

    /// <summary>Applies the comparison to every key that starts with the key (all must satisfy it).</summary>
    public CompareOn Prefix()
    {
        _rangeEnd = ByteString.CopyFrom(KeyRange.PrefixEnd(_key.Span));
        return this;
    }

    /// <summary>Equal to a number (version, revision or lease).</summary>
    public TxnCompare Equal(long number) => Number(Etcdserverpb.Compare.Types.CompareResult.Equal, number);

    /// <summary>Not equal to a number.</summary>
    public TxnCompare NotEqual(long number) => Number(Etcdserverpb.Compare.Types.CompareResult.NotEqual, number);

    /// <summary>Greater than a number.</summary>
    public TxnCompare Greater(long number) => Number(Etcdserverpb.Compare.Types.CompareResult.Greater, number);

    /// <summary>Less than a number.</summary>
    public TxnCompare Less(long number) => Number(Etcdserverpb.Compare.Types.CompareResult.Less, number);

    /// <summary>Value equal to <paramref name="value"/> (UTF-8).</summary>
    public TxnCompare Equal(string value) => Bytes(Etcdserverpb.Compare.Types.CompareResult.Equal, KeyRange.Utf8(value));

    /// <summary>Value equal to <paramref name="value"/>.</summary>
    public TxnCompare Equal(ReadOnlyMemory<byte> value) => Bytes(Etcdserverpb.Compare.Types.CompareResult.Equal, KeyRange.Bytes(value));

    /// <summary>Value not equal to <paramref name="value"/> (UTF-8).</summary>
    public TxnCompare NotEqual(string value) => Bytes(Etcdserverpb.Compare.Types.CompareResult.NotEqual, KeyRange.Utf8(value));

    /// <summary>Value byte-wise greater than <paramref name="value"/> (UTF-8).</summary>
    public TxnCompare Greater(string value) => Bytes(Etcdserverpb.Compare.Types.CompareResult.Greater, KeyRange.Utf8(value));

    /// <summary>Value byte-wise less than <paramref name="value"/> (UTF-8).</summary>
    public TxnCompare Less(string value) => Bytes(Etcdserverpb.Compare.Types.CompareResult.Less, KeyRange.Utf8(value));

    private TxnCompare Number(Etcdserverpb.Compare.Types.CompareResult result, long number)
    {
        var compare = Start(result);
        switch (_target)
        {
            case Etcdserverpb.Compare.Types.CompareTarget.Version: compare.Version = number; break;
            case Etcdserverpb.Compare.Types.CompareTarget.Create: compare.CreateRevision = number; break;
            case Etcdserverpb.Compare.Types.CompareTarget.Mod: compare.ModRevision = number; break;
            case Etcdserverpb.Compare.Types.CompareTarget.Lease: compare.Lease = number; break;
            default: throw new InvalidOperationException("A value comparison takes a string or bytes, not a number.");
        }

        return new TxnCompare(compare);
    }

    private TxnCompare Bytes(Etcdserverpb.Compare.Types.CompareResult result, ByteString value)
    {
        if (_target != Etcdserverpb.Compare.Types.CompareTarget.Value)
        {
            throw new InvalidOperationException($"A {_target} comparison takes a number, not a value.");
        }

        var compare = Start(result);
        compare.Value = value;
        return new TxnCompare(compare);
    }

    private Etcdserverpb.Compare Start(Etcdserverpb.Compare.Types.CompareResult result) =>
        new() { Key = _key, RangeEnd = _rangeEnd, Target = _target, Result = result };
}

/// <summary>A finished comparison, to pass to <see cref="Txn.If"/>.</summary>
public sealed class TxnCompare
{
    internal TxnCompare(Etcdserverpb.Compare proto) => Proto = proto;

    internal Etcdserverpb.Compare Proto { get; }
}
