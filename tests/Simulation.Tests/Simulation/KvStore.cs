using System.Text;
using Coordination.Raft.Protocol;
using Google.Protobuf;

namespace Coordination.Simulation.Tests.Simulation;

/// <summary>
/// The replicated state machine of the simulation: a tiny key-value map. Each put carries its
/// client and sequence number; a put delivered twice (a duplicated forwarded proposal) applies
/// once. <see cref="ChainHash"/> folds in every applied entry, so two members with equal applied
/// indexes must have equal hashes (state-machine safety).
/// </summary>
public sealed class KvStore
{
    private readonly SortedDictionary<string, string> _data = new(StringComparer.Ordinal);
    private readonly HashSet<long> _appliedRequests = new();

    /// <summary>Index of the last applied entry.</summary>
    public ulong AppliedIndex { get; private set; }

    /// <summary>A hash over every entry applied so far.</summary>
    public ulong ChainHash { get; private set; } = 14695981039346656037;

    /// <summary>The value of <paramref name="key"/>, or null.</summary>
    public string? Get(string key) => _data.GetValueOrDefault(key);

    /// <summary>True when the put with <paramref name="requestId"/> was applied.</summary>
    public bool HasApplied(long requestId) => _appliedRequests.Contains(requestId);

    /// <summary>Encodes a put for the log.</summary>
    public static ByteString EncodePut(long requestId, string key, string value) =>
        ByteString.CopyFromUtf8(string.Join('|', requestId.ToString(System.Globalization.CultureInfo.InvariantCulture), key, value));

    /// <summary>Applies one committed entry; returns the request id of a put (0 otherwise).</summary>
    public long Apply(Entry entry)
    {
        if (entry.Index != AppliedIndex + 1) throw new InvalidOperationException($"kv: applying {entry.Index} after {AppliedIndex}");
        AppliedIndex = entry.Index;
        Mix(entry.Index);
        Mix(entry.Term);
        foreach (var b in entry.Data.Span) Mix(b);
        if (entry.Type != EntryType.EntryNormal || entry.Data.IsEmpty) return 0;
        var parts = entry.Data.ToStringUtf8().Split('|');
        var id = long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        if (!_appliedRequests.Add(id)) return 0;
        _data[parts[1]] = parts[2];
        return id;
    }

    /// <summary>The image of the state (for a snapshot).</summary>
    public ByteString Image()
    {
        var sb = new StringBuilder();
        sb.Append(AppliedIndex).Append('\n').Append(ChainHash).Append('\n');
        foreach (var (k, v) in _data) sb.Append(k).Append('=').Append(v).Append(';');
        sb.Append('\n');
        foreach (var id in _appliedRequests.Order()) sb.Append(id).Append(',');
        return ByteString.CopyFromUtf8(sb.ToString());
    }

    /// <summary>Rebuilds a store from an image.</summary>
    public static KvStore Restore(ByteString image)
    {
        var store = new KvStore();
        var lines = image.ToStringUtf8().Split('\n');
        store.AppliedIndex = ulong.Parse(lines[0], System.Globalization.CultureInfo.InvariantCulture);
        store.ChainHash = ulong.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture);
        foreach (var pair in lines[2].Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            store._data[pair[..eq]] = pair[(eq + 1)..];
        }
        foreach (var id in lines[3].Split(',', StringSplitOptions.RemoveEmptyEntries))
            store._appliedRequests.Add(long.Parse(id, System.Globalization.CultureInfo.InvariantCulture));
        return store;
    }

    private void Mix(ulong value)
    {
        for (var i = 0; i < 8; i++)
        {
            ChainHash ^= (value >> (i * 8)) & 0xff;
            ChainHash *= 1099511628211;
        }
    }
}
