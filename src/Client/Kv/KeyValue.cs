using System.Text;
using Google.Protobuf;

namespace Coordination.Client.Kv;

/// <summary>A key with its value and revisions, as stored at the revision of the read.</summary>
public sealed class KeyValue
{
    internal KeyValue(Mvccpb.KeyValue kv)
    {
        Key = kv.Key.Memory;
        Value = kv.Value.Memory;
        CreateRevision = kv.CreateRevision;
        ModRevision = kv.ModRevision;
        Version = kv.Version;
        Lease = kv.Lease;
    }

    /// <summary>The key's bytes.</summary>
    public ReadOnlyMemory<byte> Key { get; }

    /// <summary>The value's bytes (empty for keys-only reads).</summary>
    public ReadOnlyMemory<byte> Value { get; }

    /// <summary>The key as UTF-8 text.</summary>
    public string KeyString => Encoding.UTF8.GetString(Key.Span);

    /// <summary>The value as UTF-8 text.</summary>
    public string ValueString => Encoding.UTF8.GetString(Value.Span);

    /// <summary>Revision of the key's last creation.</summary>
    public long CreateRevision { get; }

    /// <summary>Revision of the key's last modification.</summary>
    public long ModRevision { get; }

    /// <summary>Number of modifications since the key's creation (1 after the creating put).</summary>
    public long Version { get; }

    /// <summary>ID of the lease attached to the key, 0 when none.</summary>
    public long Lease { get; }

    internal static KeyValue? From(Mvccpb.KeyValue? kv) => kv is null ? null : new KeyValue(kv);

    /// <inheritdoc />
    public override string ToString() => $"{KeyString}={ValueString} (create {CreateRevision}, mod {ModRevision}, version {Version})";
}

/// <summary>What every response carries about the cluster and its revision.</summary>
/// <param name="Revision">The store revision when the request was served.</param>
/// <param name="ClusterId">ID of the cluster.</param>
/// <param name="MemberId">ID of the member that answered.</param>
/// <param name="RaftTerm">Raft term of that member.</param>
public sealed record ResponseHeader(long Revision, ulong ClusterId, ulong MemberId, ulong RaftTerm)
{
    internal static ResponseHeader From(Etcdserverpb.ResponseHeader? header) =>
        header is null ? new ResponseHeader(0, 0, 0, 0) : new ResponseHeader(header.Revision, header.ClusterId, header.MemberId, header.RaftTerm);
}

/// <summary>Byte helpers for keys.</summary>
public static class KeyRange
{
    /// <summary>
    /// The range end that selects every key starting with <paramref name="prefix"/>: the prefix with
    /// its last byte below 0xff incremented (trailing 0xff bytes dropped); a single zero byte
    /// ("every key") when no such byte exists.
    /// </summary>
    public static byte[] PrefixEnd(ReadOnlySpan<byte> prefix)
    {
        for (var i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] < 0xff)
            {
                var end = prefix[..(i + 1)].ToArray();
                end[i]++;
                return end;
            }
        }

        return [0];
    }

    internal static ByteString Bytes(ReadOnlyMemory<byte> bytes) => ByteString.CopyFrom(bytes.Span);

    internal static ByteString Utf8(string text) => ByteString.CopyFromUtf8(text);

    internal static byte[] Utf8Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
