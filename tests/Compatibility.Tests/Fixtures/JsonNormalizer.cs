using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Coordination.Compatibility.Tests.Fixtures;

/// <summary>
/// Removes from etcdctl output what legitimately differs between two servers that received the same
/// command sequence from a fresh start, so that the rest can be compared exactly. One instance per
/// server per scenario: lease and member IDs are mapped to placeholders in order of appearance
/// (<c>&lt;lease#1&gt;</c>, ...), so "the same lease as two steps ago" is still checked.
/// <para>Kept on purpose: every revision (header.revision, create/mod revisions, compact revisions),
/// versions of keys, counts, <c>more</c>, <c>succeeded</c>, keys and values. Two servers that start
/// fresh and receive the same writes must agree on them.</para>
/// <para>Replaced, with the reason:</para>
/// <list type="bullet">
/// <item><c>cluster_id</c>: random per cluster (derived from member URLs and a clock).</item>
/// <item><c>member_id</c>, <c>leader</c>, member <c>ID</c>s: random per member; mapped, so
/// "leader == member_id" is still checked.</item>
/// <item><c>raft_term</c>, <c>raftTerm</c>, <c>raftIndex</c>, <c>raftAppliedIndex</c>: depend on
/// elections and on internal log entries (conf changes, cluster-version proposals) that are not
/// client requests.</item>
/// <item>lease <c>ID</c> and a key's <c>lease</c>: server-generated.</item>
/// <item>Status <c>version</c>, <c>dbSize</c>, <c>dbSizeInUse</c>: server build and storage format.</item>
/// <item>HashKV <c>hash</c>: a hash of an implementation's own storage encoding.</item>
/// <item><c>took</c> durations, the endpoint URL (port), and the scenario's temp directory.</item>
/// </list>
/// </summary>
internal sealed partial class JsonNormalizer
{
    private readonly IReadOnlyList<(string Literal, string Placeholder)> _literals;
    private readonly IdMap _leases = new("lease");
    private readonly IdMap _members = new("member");

    /// <param name="literals">side-specific strings (endpoint URL, temp directory) and their placeholders</param>
    public JsonNormalizer(IEnumerable<(string Literal, string Placeholder)> literals)
    {
        _literals = literals.Where(l => l.Literal.Length > 0).OrderByDescending(l => l.Literal.Length).ToList();
    }

    /// <summary>Normalizes stdout: JSON (one or more documents) becomes canonical indented JSON with
    /// sorted object keys; anything else is normalized as text.</summary>
    public string NormalizeStdout(string stdout)
    {
        var documents = TryParseJsonDocuments(stdout);
        if (documents is null)
        {
            return NormalizeText(stdout).TrimEnd();
        }

        return string.Join("\n", documents.Select(d => Canonical(Normalize(d))));
    }

    /// <summary>Reduces stderr to what a user sees as the outcome: "Error: ..." and other plain lines,
    /// the gRPC status (code and description) from etcdctl's retry-interceptor log lines, and the
    /// first line of a Go panic. Dropped: info/debug logs, timestamps, client IDs, stack traces.</summary>
    public string NormalizeStderr(string stderr)
    {
        var kept = new List<string>();
        foreach (var raw in stderr.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("{\"level\"", StringComparison.Ordinal))
            {
                var rpc = RpcError().Match(line);
                if (rpc.Success)
                {
                    kept.Add($"[grpc] code = {rpc.Groups["code"].Value} desc = {NormalizeText(Regex.Unescape(rpc.Groups["desc"].Value))}");
                }

                continue;
            }

            if (line.Length == 0 || line.StartsWith('\t') || line.StartsWith("goroutine ", StringComparison.Ordinal)
                || line.EndsWith("(...)", StringComparison.Ordinal) || StackFrame().IsMatch(line))
            {
                continue;
            }

            kept.Add(NormalizeText(line));
        }

        // The retry interceptor logs each attempt; identical consecutive lines say nothing more.
        return string.Join("\n", kept.Where((l, i) => i == 0 || l != kept[i - 1]));
    }

    public string NormalizeText(string text)
    {
        foreach (var (literal, placeholder) in _literals)
        {
            text = text.Replace(literal, placeholder, StringComparison.Ordinal);
        }

        text = Took().Replace(text, "took = <duration>");
        text = NormalizeTable(text);
        text = RemainingTtlText().Replace(text, m => $"{m.Groups["pre"].Value}{RemainingTtl(long.Parse(m.Groups["r"].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups["g"].Value, CultureInfo.InvariantCulture))}s)");
        text = AttachedKeysText().Replace(text, m => $"attached keys([{string.Join(' ', m.Groups["k"].Value.Split(' ').Order(StringComparer.Ordinal))}])");
        text = LockKeyHex().Replace(text, m => $"{m.Groups["name"].Value}/{_leases.Map(HexToDecimal(m.Groups["hex"].Value))}");
        text = LeaseHex().Replace(text, m => "lease " + _leases.Map(HexToDecimal(m.Groups[1].Value)));
        text = HashKvSimple().Replace(text, "$1, <hash>");
        return text;
    }

    /// <summary>etcdctl's <c>-w table</c>: column widths follow the content (durations vary), so
    /// border lines are dropped and each row becomes its trimmed cells joined by " | ".</summary>
    private static string NormalizeTable(string text)
    {
        var lines = text.Split('\n');
        if (!lines.Any(l => l.StartsWith("+-", StringComparison.Ordinal)))
        {
            return text;
        }

        return string.Join("\n", lines
            .Where(l => !l.StartsWith("+-", StringComparison.Ordinal))
            .Select(l => l.StartsWith('|')
                ? string.Join(" | ", l.Trim().Trim('|').Split('|').Select(cell => Duration().IsMatch(cell.Trim()) ? "<duration>" : cell.Trim()))
                : l));
    }

    public JsonNode? Normalize(JsonNode? node) => Normalize(node, propertyName: null, inMembers: false);

    private JsonNode? Normalize(JsonNode? node, string? propertyName, bool inMembers)
    {
        switch (node)
        {
            case JsonObject obj:
            {
                var isStatus = obj.ContainsKey("dbSize") || obj.ContainsKey("raftIndex");
                var isHashKv = obj.ContainsKey("hash") && obj.ContainsKey("header");
                var result = new JsonObject();
                foreach (var (key, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    var childInMembers = inMembers || key is "members" or "member";
                    result[key] = key switch
                    {
                        "cluster_id" => Placeholder(value, "<cluster_id>"),
                        "member_id" or "leader" => MapId(value, _members),
                        "raft_term" or "raftTerm" => Placeholder(value, "<raft_term>"),
                        "raftIndex" or "raftAppliedIndex" => Placeholder(value, "<raft_index>"),
                        "ID" => MapId(value, inMembers ? _members : _leases),
                        "lease" when value is JsonValue => MapId(value, _leases),
                        "version" when isStatus => Placeholder(value, "<server_version>"),
                        "dbSize" or "dbSizeInUse" => Placeholder(value, "<db_size>"),
                        "hash" when isHashKv => Placeholder(value, "<hash>"),
                        "took" => Placeholder(value, "<duration>"),
                        "key" or "value" when value is JsonValue v && v.GetValueKind() == JsonValueKind.String => DecodeBytes(v.GetValue<string>()),
                        _ when NormalizeLeaseField(obj, key, value, propertyName) is { } lease => lease,
                        _ => Normalize(value, key, childInMembers),
                    };
                }

                return result;
            }

            case JsonArray array:
                return new JsonArray(array.Select(item => Normalize(item, propertyName, inMembers)).ToArray());

            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                return JsonValue.Create(NormalizeText(value.GetValue<string>()));

            default:
                return node?.DeepClone();
        }
    }

    /// <summary>etcdctl prints keys and values as base64. Shown decoded when they are printable
    /// UTF-8 (for readable diffs), else as "base64:...": an injective mapping, so equality is kept.</summary>
    private JsonNode DecodeBytes(string base64)
    {
        try
        {
            var bytes = Convert.FromBase64String(base64);
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            if (!text.Any(c => char.IsControl(c) && c != '\t') && !text.StartsWith("base64:", StringComparison.Ordinal))
            {
                return JsonValue.Create(NormalizeText(text));
            }
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            // not base64, or not UTF-8: compare as is
        }

        return JsonValue.Create("base64:" + base64);
    }

    private static JsonNode? Placeholder(JsonNode? value, string placeholder) =>
        value is null ? null : JsonValue.Create(placeholder);

    /// <summary>Maps a numeric ID; 0 is kept (it means "none" in etcd, and a server that answers 0
    /// where etcd answers an ID must show up as a difference).</summary>
    private static JsonNode? MapId(JsonNode? value, IdMap map)
    {
        if (value is not JsonValue v)
        {
            return value?.DeepClone();
        }

        var text = v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString();
        return text == "0" ? JsonValue.Create(0) : JsonValue.Create(map.Map(text));
    }

    private static string HexToDecimal(string hex) =>
        ulong.TryParse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var id)
            ? id.ToString(CultureInfo.InvariantCulture)
            : hex;

    // ------------------------------------------------------------------ leases (lease commands)
    // etcdctl's lease views (`lease timetolive`, `lease list`) name the lease "id", not "ID"; the
    // remaining TTL counts down on each server's own clock; lease lists and attached keys come
    // from Go maps, in no defined order. What is still compared exactly: the granted TTL, the
    // remaining TTL's distance from it beyond the tolerance (and -1 for a missing lease), which
    // lease is which, the set of keys and the set of leases.

    /// <summary>How far (seconds) a remaining TTL may be below the granted TTL and still count as
    /// "just granted or renewed": two processes, each answering a second or so after the grant.</summary>
    internal const long RemainingTtlTolerance = 3;

    private JsonNode? NormalizeLeaseField(JsonObject obj, string key, JsonNode? value, string? propertyName)
    {
        var isTimeToLive = obj.ContainsKey("granted-ttl");
        return key switch
        {
            "id" when isTimeToLive || propertyName == "leases" => MapId(value, _leases),
            "ttl" when isTimeToLive && value is JsonValue ttl && obj["granted-ttl"] is JsonValue granted =>
                JsonValue.Create(RemainingTtl(ttl.GetValue<long>(), granted.GetValue<long>())),
            "keys" when isTimeToLive && value is JsonArray keys => SortedArray(keys.Select(k => Normalize(k, key, false))),
            "leases" when value is JsonArray leases => SortedArray(leases.Select(l => Normalize(l, key, false))),
            _ => null,
        };
    }

    /// <summary>A remaining TTL within the tolerance below the granted TTL becomes a placeholder;
    /// anything else (-1 for "not found", a lease about to expire, a wrong value) stays a number.</summary>
    internal static string RemainingTtl(long remaining, long granted) =>
        remaining <= granted && remaining >= granted - RemainingTtlTolerance && remaining > 0
            ? $"<granted ttl - up to {RemainingTtlTolerance}>"
            : remaining.ToString(CultureInfo.InvariantCulture);

    private static JsonArray SortedArray(IEnumerable<JsonNode?> items) =>
        new(items.OrderBy(Canonical, StringComparer.Ordinal).ToArray());

    [GeneratedRegex(@"(?<pre>granted with TTL\((?<g>\d+)s\), remaining\()(?<r>-?\d+)s\)")]
    private static partial Regex RemainingTtlText();

    /// <summary>Lock and election keys, <c>name/&lt;lease id in hex&gt;</c>, for scenario names starting with
    /// "lock" or "election": the hex is the (server-chosen) session lease.</summary>
    [GeneratedRegex(@"\b(?<name>(?:lock|election)[\w-]*)/(?<hex>[0-9a-f]{1,16})\b")]
    private static partial Regex LockKeyHex();

    /// <summary>`lease timetolive --keys` in simple format: the keys, space-separated, in map order.</summary>
    [GeneratedRegex(@"attached keys\(\[(?<k>[^\]]*)\]\)")]
    private static partial Regex AttachedKeysText();

    /// <summary>Canonical rendering: keys sorted (done by <see cref="Normalize(JsonNode?)"/>), indented.</summary>
    public static string Canonical(JsonNode? node) =>
        node is null ? "null" : node.ToJsonString(CanonicalOptions);

    private static readonly JsonSerializerOptions CanonicalOptions = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Parses one or more concatenated JSON documents; null when the text is not JSON.</summary>
    public static List<JsonNode?>? TryParseJsonDocuments(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0 || (trimmed[0] != '{' && trimmed[0] != '['))
        {
            return null;
        }

        try
        {
            var bytes = Encoding.UTF8.GetBytes(trimmed);
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { AllowMultipleValues = true });
            var documents = new List<JsonNode?>();
            while (true)
            {
                var node = JsonNode.Parse(ref reader);
                documents.Add(node);
                if (!reader.Read())
                {
                    break;
                }
            }

            return documents;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"took = \S+")]
    private static partial Regex Took();

    [GeneratedRegex(@"^\d+(\.\d+)?(ns|µs|us|ms|s)$")]
    private static partial Regex Duration();

    [GeneratedRegex(@"\blease ([0-9a-f]{1,16})\b")]
    private static partial Regex LeaseHex();

    [GeneratedRegex(@"^(<endpoint>), \d+$", RegexOptions.Multiline)]
    private static partial Regex HashKvSimple();

    [GeneratedRegex(@"""error"":""rpc error: code = (?<code>\w+) desc = (?<desc>(?:[^""\\]|\\.)*)""")]
    private static partial Regex RpcError();

    [GeneratedRegex(@"^\S+\.go:\d+|^[\w./-]+\(.*\)$|^main\.main\(\)")]
    private static partial Regex StackFrame();

    /// <summary>Maps IDs to placeholders in order of first appearance.</summary>
    private sealed class IdMap(string kind)
    {
        private readonly Dictionary<string, string> _map = new(StringComparer.Ordinal);

        public string Map(string id)
        {
            if (!_map.TryGetValue(id, out var placeholder))
            {
                placeholder = $"<{kind}#{_map.Count + 1}>";
                _map[id] = placeholder;
            }

            return placeholder;
        }
    }
}
