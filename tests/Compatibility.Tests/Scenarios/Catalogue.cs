using System.Text;
using System.Text.Json.Nodes;
using Coordination.Compatibility.Tests.Fixtures;

namespace Coordination.Compatibility.Tests.Scenarios;

/// <summary>
/// Every compatibility scenario, as data. Adding one is one line: <c>S(group, name, steps...)</c>,
/// where a group is one of the test classes in <c>CompatibilityTests.cs</c>.
/// Keys are chosen so that no sort has ties (Go's sort is not stable, so ties may legitimately
/// come back in any order).
/// </summary>
internal static partial class Catalogue
{
    public const string Kv = "kv";
    public const string Txn = "txn";
    public const string Revisions = "revisions";
    public const string Errors = "errors";
    public const string Maintenance = "maintenance";

    private static readonly Lazy<IReadOnlyDictionary<string, Scenario>> ByName = new(() =>
    {
        var all = Build().Concat(LeaseScenarios()).Concat(ConcurrencyScenarios()).Concat(AuthScenarios()).ToList();
        var duplicate = all.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
        return duplicate is not null
            ? throw new InvalidOperationException($"duplicate scenario name {duplicate.Key}")
            : all.ToDictionary(s => s.Name, StringComparer.Ordinal);
    });

    public static IEnumerable<Scenario> All => ByName.Value.Values;

    public static Scenario Get(string name) => ByName.Value[name];

    public static TheoryData<string> NamesIn(string group) => new(All.Where(s => s.Group == group).Select(s => s.Name));

    // ---------------------------------------------------------------- building blocks

    private static Scenario S(string group, string name, params Step[] steps) => new(group, name, steps);

    private static Scenario S(string group, string name, string note, params Step[] steps) => new(group, name, steps, note);

    /// <summary>One etcdctl command line (split on spaces; "" is an empty argument).</summary>
    private static CtlStep Ctl(string commandLine, string format = "json") => new(CtlStep.Tokenize(commandLine), format);

    private static CtlStep Put(string key, string value) => Ctl($"put {key} {value}");

    /// <summary><c>etcdctl txn</c> fed on stdin: compares, blank line, success ops, blank line,
    /// failure ops, blank line (each list one per line).</summary>
    private static CtlStep TxnOf(string[] compares, string[] success, string[] failure, string format = "json")
    {
        var stdin = new StringBuilder();
        foreach (var part in new[] { compares, success, failure })
        {
            foreach (var line in part)
            {
                stdin.Append(line).Append('\n');
            }

            stdin.Append('\n');
        }

        return Ctl("txn", format).WithStdin(stdin.ToString());
    }

    private static Step[] Seed(params (string Key, string Value)[] pairs) => pairs.Select(p => (Step)Put(p.Key, p.Value)).ToArray();

    private static Step[] Concat(params object[] parts) =>
        parts.SelectMany(p => p switch { Step s => [s], IEnumerable<Step> many => many, _ => throw new ArgumentException(p.ToString()) }).ToArray();

    /// <summary>Sort fixture: create, mod, version and value orders all differ from key order, no ties.
    /// Final state: s/a (create 3, mod 8, ver 4, "w"), s/b (5, 5, 1, "z"), s/c (2, 10, 3, "x"),
    /// s/d (4, 11, 2, "y").</summary>
    private static Step[] SortFixture() => Seed(
        ("s/c", "q"), ("s/a", "r"), ("s/d", "t"), ("s/b", "z"), ("s/a", "u"), ("s/a", "v"), ("s/a", "w"),
        ("s/c", "p"), ("s/c", "x"), ("s/d", "y"));

    private static IEnumerable<Step> SortCases(string target) =>
    [
        Ctl($"get s/ --prefix --sort-by {target}"),
        Ctl($"get s/ --prefix --sort-by {target} --order ASCEND"),
        Ctl($"get s/ --prefix --sort-by {target} --order DESCEND"),
        Ctl($"get s/ --prefix --sort-by {target} --order DESCEND --limit 2"),
    ];

    private static string Repeat(char c, int count) => new(c, count);

    private static CheckStep Check(string description, Func<SideContext, Task> check) => new(description, check);

    // ---------------------------------------------------------------- the scenarios

    private static IEnumerable<Scenario> Build()
    {
        // ---------------- put / get / del
        yield return S(Kv, "put-get", Put("foo", "bar"), Ctl("get foo"), Put("foo", "baz"), Ctl("get foo"));
        yield return S(Kv, "put-get-simple-format", Ctl("put foo bar", "simple"), Ctl("get foo", "simple"),
            Ctl("get foo --keys-only", "simple"), Ctl("del foo", "simple"), Ctl("get foo", "simple"));
        yield return S(Kv, "put-prev-kv", Put("k", "v1"), Ctl("put --prev-kv k v2"), Ctl("put --prev-kv new v"),
            Ctl("put --prev-kv k v3", "simple"));
        yield return S(Kv, "put-ignore-value", Put("k", "v1"), Ctl("put --ignore-value k"), Ctl("get k"),
            Ctl("put --ignore-value --prev-kv k"));
        yield return S(Kv, "put-ignore-lease", Put("k", "v1"), Ctl("put --ignore-lease k v2"), Ctl("get k"));
        yield return S(Kv, "put-same-value-bumps-version", Put("k", "v"), Put("k", "v"), Put("k", "v"), Ctl("get k"));
        yield return S(Kv, "put-binary-and-unicode", Put("ключ", "значение"), Put("k\tv", "tab"), Ctl("get ключ"),
            Ctl("get --prefix k"), Ctl("get --prefix \"\" --hex", "simple"));
        yield return S(Kv, "get-prefix", Concat(Seed(("a", "0"), ("p/a", "1"), ("p/b", "2"), ("p/c", "3"), ("q", "4")),
            Ctl("get p/ --prefix"), Ctl("get --prefix \"\""), Ctl("get p --prefix"), Ctl("get p/z --prefix")));
        yield return S(Kv, "get-range-end", Concat(Seed(("a", "0"), ("p/a", "1"), ("p/b", "2"), ("p/c", "3"), ("q", "4")),
            Ctl("get p/a p/c"), Ctl("get a q"), Ctl("get p/b p/b"), Ctl("get p/c p/a")));
        yield return S(Kv, "get-from-key", Concat(Seed(("a", "0"), ("p/a", "1"), ("p/b", "2"), ("q", "4")),
            Ctl("get p/b --from-key"), Ctl("get --from-key \"\""), Ctl("get zzz --from-key")));
        yield return S(Kv, "get-limit", Concat(Seed(("p/a", "1"), ("p/b", "2"), ("p/c", "3"), ("q", "4")),
            Ctl("get p/ --prefix --limit 2"), Ctl("get p/ --prefix --limit 3"), Ctl("get p/ --prefix --limit 10"),
            Ctl("get --from-key p/b --limit 1"), Ctl("get p/ --prefix --limit 1 --keys-only")));
        yield return S(Kv, "get-sort-key", Concat(SortFixture(), SortCases("KEY"), Ctl("get s/ --prefix --order DESCEND"),
            Ctl("get s/ --prefix --order ASCEND")));
        yield return S(Kv, "get-sort-create", Concat(SortFixture(), SortCases("CREATE")));
        yield return S(Kv, "get-sort-modify", Concat(SortFixture(), SortCases("MODIFY")));
        yield return S(Kv, "get-sort-value", Concat(SortFixture(), SortCases("VALUE")));
        yield return S(Kv, "get-sort-version", Concat(SortFixture(), SortCases("VERSION")));
        yield return S(Kv, "get-keys-only", Concat(Seed(("p/a", "1"), ("p/b", "2")),
            Ctl("get p/ --prefix --keys-only"), Ctl("get p/ --prefix --keys-only", "simple")));
        yield return S(Kv, "get-print-value-only", Concat(Seed(("p/a", "1"), ("p/b", "2")),
            Ctl("get p/ --prefix --print-value-only", "simple"), Ctl("get p/a --print-value-only", "simple"),
            Ctl("get p/ --prefix --print-value-only")));
        yield return S(Kv, "get-count-only",
            "etcdctl 3.4 has no --count-only (added in 3.5); both sides must fail identically in the client. "
            + "Count is covered by the 'count' field of every JSON get (with --limit it is not reduced).",
            Put("p/a", "1"), Ctl("get p/ --prefix --count-only"));
        yield return S(Kv, "get-consistency-serializable", Concat(Seed(("p/a", "1"), ("p/b", "2")),
            Ctl("get p/a --consistency s"), Ctl("get p/ --prefix --consistency s"), Ctl("get p/ --prefix --consistency l")));
        yield return S(Kv, "get-rev-history", Put("k", "v1"), Put("k", "v2"), Ctl("del k"), Put("k", "v3"), Put("j", "x"),
            Ctl("get k --rev 1"), Ctl("get k --rev 2"), Ctl("get k --rev 3"), Ctl("get k --rev 4"), Ctl("get k --rev 5"),
            Ctl("get --prefix \"\" --rev 3"), Ctl("get --prefix \"\" --rev 0"));
        yield return S(Kv, "get-missing", Ctl("get nothing"), Put("a", "1"), Ctl("get nothing"), Ctl("get nothing --prefix"),
            Ctl("get nothing", "simple"));
        yield return S(Kv, "del-single", Put("k", "v"), Ctl("del k"), Ctl("get k"), Put("k", "again"), Ctl("get k"));
        yield return S(Kv, "del-missing-no-revision-bump", Put("k", "v"), Ctl("del nothing"), Ctl("del nothing --prefix"),
            Put("k", "w"), Ctl("get k"));
        yield return S(Kv, "del-prev-kv", Put("k", "v"), Ctl("del --prev-kv k"), Ctl("del --prev-kv k"));
        yield return S(Kv, "del-prefix", Concat(Seed(("p/a", "1"), ("p/b", "2"), ("q", "3")),
            Ctl("del --prefix p/"), Ctl("get --prefix \"\""), Ctl("del --prefix --prev-kv \"\"")));
        yield return S(Kv, "del-from-key", Concat(Seed(("a", "1"), ("b", "2"), ("c", "3")),
            Ctl("del --from-key b --prev-kv"), Ctl("get --from-key \"\"")));
        yield return S(Kv, "del-range-end", Concat(Seed(("a", "1"), ("b", "2"), ("c", "3")),
            Ctl("del a c"), Ctl("get --from-key \"\""), Ctl("del c a")));

        // ---------------- txn
        yield return S(Txn, "txn-success-branch", Put("k", "v"),
            TxnOf(["val(\"k\") = \"v\""], ["put k v2", "get k", "del other", "put other 1"], ["put failed 1"]),
            Ctl("get --prefix \"\""));
        yield return S(Txn, "txn-failure-branch", Put("k", "v"),
            TxnOf(["val(\"k\") = \"nope\""], ["put k v2"], ["put failed 1", "get k", "del k"]),
            Ctl("get --prefix \"\""));
        yield return S(Txn, "txn-simple-format", Put("k", "v"),
            TxnOf(["val(\"k\") = \"v\""], ["put k v2", "get k"], [], "simple"),
            TxnOf(["val(\"k\") = \"v\""], ["put k v3"], ["get k"], "simple"));
        yield return S(Txn, "txn-no-compares", TxnOf([], ["put a 1", "put b 2"], []), Ctl("get --prefix \"\""));
        yield return S(Txn, "txn-empty", TxnOf([], [], []), Put("k", "v"));
        yield return S(Txn, "txn-read-only-no-revision-bump", Put("k", "v"),
            TxnOf(["ver(\"k\") = \"1\""], ["get k", "get --prefix \"\""], []), Put("k", "w"));
        yield return S(Txn, "txn-failed-no-writes-no-revision-bump", Put("k", "v"),
            TxnOf(["ver(\"k\") = \"9\""], ["put k x"], []), Put("k", "w"));
        yield return S(Txn, "txn-op-flags", Concat(Seed(("p/a", "1"), ("p/b", "2")),
            TxnOf([], ["put p/a 9 --prev-kv", "get p/ --prefix --limit 1", "del p/b --prev-kv"], []),
            TxnOf([], ["del --prefix p/"], []), Ctl("get --prefix \"\"")));
        yield return S(Txn, "txn-multiple-compares", Put("a", "1"), Put("b", "2"),
            TxnOf(["val(\"a\") = \"1\"", "val(\"b\") = \"2\""], ["put c all"], ["put c none"]),
            TxnOf(["val(\"a\") = \"1\"", "val(\"b\") = \"x\""], ["put d all"], ["put d none"]), Ctl("get --from-key c"));
        foreach (var scenario in CompareScenarios())
        {
            yield return scenario;
        }

        // ---------------- revisions and compaction
        yield return S(Revisions, "compaction-then-get-compacted-rev",
            Put("k", "v1"), Put("k", "v2"), Put("k", "v3"), Put("j", "x"),
            Ctl("compaction 3"), Ctl("get k --rev 2"), Ctl("get k --rev 3"), Ctl("get k --rev 4"), Ctl("get k"),
            Ctl("get --prefix \"\" --rev 1"));
        yield return S(Revisions, "compaction-errors", Put("k", "v1"), Put("k", "v2"), Put("k", "v3"),
            Ctl("compaction 3"), Ctl("compaction 3"), Ctl("compaction 2"), Ctl("compaction 100"), Ctl("compaction 4", "simple"));
        yield return S(Revisions, "compaction-physical", Put("k", "v1"), Put("k", "v2"), Ctl("compaction --physical 2"),
            Ctl("get k --rev 1"), Ctl("get k --rev 2"), Put("k", "v3"));
        yield return S(Revisions, "compaction-keeps-latest-and-deleted", Put("a", "1"), Put("b", "1"), Ctl("del a"), Put("b", "2"),
            Ctl("compaction 5"), Ctl("get --prefix \"\""), Ctl("get --prefix \"\" --rev 5"), Ctl("get a --rev 4"));
        yield return S(Revisions, "get-future-rev", Ctl("get k --rev 2"), Put("k", "v"), Ctl("get k --rev 2"),
            Ctl("get k --rev 3"), Ctl("get k --rev 100"));
        yield return S(Revisions, "recreate-resets-create-revision-and-version", Put("k", "1"), Put("k", "2"), Ctl("del k"),
            Put("k", "3"), Ctl("get k"), Ctl("get k --rev 3"));

        // ---------------- errors
        yield return S(Errors, "empty-key", Ctl("get \"\""), Ctl("put \"\" v"), Ctl("del \"\""));
        yield return S(Errors, "put-ignore-value-missing-key", Ctl("put --ignore-value nokey"), Ctl("put --ignore-lease nokey v"));
        yield return S(Errors, "put-ignore-value-with-value", Put("k", "v"), Ctl("put --ignore-value k v2"));
        yield return S(Errors, "put-unknown-lease", Ctl("put --lease 1234 k v"), Ctl("put --lease 1234abcd k v"), Ctl("get k"));
        yield return S(Errors, "get-empty-range", Put("b", "1"), Ctl("get a a"), Ctl("get c a"), Ctl("get b/ --prefix"),
            Ctl("get x y"));
        yield return S(Errors, "txn-too-many-ops",
            "max-txn-ops is 128, compared with max(len(compare), len(success), len(failure)).",
            TxnOf([], Enumerable.Range(1, 129).Select(i => $"put k{i} v").ToArray(), []),
            TxnOf(Enumerable.Range(1, 129).Select(i => $"ver(\"k{i}\") = \"0\"").ToArray(), [], []),
            TxnOf([], Enumerable.Range(1, 128).Select(i => $"put k{i} v").ToArray(),
                Enumerable.Range(1, 128).Select(i => $"put f{i} v").ToArray()),
            Ctl("get --prefix \"\" --keys-only --limit 3"));
        yield return S(Errors, "txn-duplicate-keys",
            TxnOf([], ["put a 1", "put a 2"], []),
            TxnOf([], ["put a 1", "del a"], []),
            TxnOf([], ["del --prefix a", "put ab 1"], []),
            TxnOf([], ["del a", "del --prefix a"], []),
            TxnOf([], ["put a 1"], ["put a 2"]),
            TxnOf([], ["get a", "get a", "put a 1"], []),
            Ctl("get --prefix \"\""));
        yield return S(Errors, "request-too-large",
            "The default --max-request-bytes is 1.5 MiB; a put of 1.6 MB fails with 'request is too large' " +
            "(InvalidArgument); 1.5 MB fits; 2.2 MB exceeds etcdctl's own 2 MiB send limit (client-side error).",
            Ctl("put big").WithStdin(Repeat('a', 1_600_000), "<1,600,000 x 'a'>"),
            Ctl("put fits").WithStdin(Repeat('b', 1_500_000), "<1,500,000 x 'b'>"),
            Ctl("get fits --keys-only"),
            Ctl("put huge").WithStdin(Repeat('c', 2_200_000), "<2,200,000 x 'c'>"),
            TxnOf([], ["put t1 " + Repeat('d', 900_000), "put t2 " + Repeat('e', 900_000)], []) with { StdinLabel = "<txn of two 900 kB puts>" });

        // ---------------- maintenance
        yield return S(Maintenance, "endpoint-status", Ctl("endpoint status"), Put("k", "v"), Ctl("endpoint status"));
        yield return S(Maintenance, "endpoint-health", Ctl("endpoint health"), Ctl("endpoint health", "simple"),
            Ctl("endpoint health", "table"));
        yield return S(Maintenance, "endpoint-hashkv",
            "Hashes are implementation-specific: compared only for shape; each server must give a stable hash "
            + "that changes after a write.",
            Ctl("endpoint hashkv"), Put("k", "v"), Ctl("endpoint hashkv"), Ctl("endpoint hashkv --rev 1"),
            Ctl("compaction 2"), Ctl("endpoint hashkv"),
            Check("hashkv is stable across calls and changes after a write", HashKvIsStableAndChangesAsync));
        yield return S(Maintenance, "snapshot-save", Put("k", "v"), Ctl("snapshot save {dir}/snap.db"),
            Check("snapshot file exists and is non-empty", side => AssertNonEmptyFileAsync(Path.Combine(side.Server.WorkDir, "snap.db"))));

        // ---------------- watch (Catalogue.Watch.cs)
        foreach (var scenario in WatchScenarios())
        {
            yield return scenario;
        }
    }

    /// <summary>One scenario per compare target, each operator with a true and a false case.</summary>
    private static IEnumerable<Scenario> CompareScenarios()
    {
        // k: create 2, mod 4, version 3, value "m"; nokey missing.
        Step[] seed = [Put("k", "a"), Put("other", "x"), Put("k", "m"), Put("k", "m")];
        IEnumerable<Step> Cases(string target, string equal, string less, string greater) =>
        [
            TxnOf([$"{target}(\"k\") = \"{equal}\""], ["get k"], ["get other"]),
            TxnOf([$"{target}(\"k\") = \"{less}\""], ["get k"], ["get other"]),
            TxnOf([$"{target}(\"k\") != \"{less}\""], ["get k"], ["get other"]),
            TxnOf([$"{target}(\"k\") != \"{equal}\""], ["get k"], ["get other"]),
            TxnOf([$"{target}(\"k\") < \"{greater}\""], ["get k"], ["get other"]),
            TxnOf([$"{target}(\"k\") < \"{equal}\""], ["get k"], ["get other"]),
            TxnOf([$"{target}(\"k\") > \"{less}\""], ["get k"], ["get other"]),
            TxnOf([$"{target}(\"k\") > \"{equal}\""], ["get k"], ["get other"]),
            TxnOf([$"{target}(\"nokey\") = \"{(target is "val" or "value" ? "" : "0")}\""], ["put created-if-true 1"], ["get nokey"]),
            TxnOf([$"{target}(\"nokey\") > \"{(target is "val" or "value" ? "" : "0")}\""], ["put greater-if-true 1"], ["get nokey"]),
        ];

        yield return S(Txn, "txn-compare-create", Concat(seed, Cases("c", "2", "1", "3")));
        yield return S(Txn, "txn-compare-create-long-name", Concat(seed, Cases("create", "2", "1", "3")));
        yield return S(Txn, "txn-compare-mod", Concat(seed, Cases("m", "4", "3", "5")));
        yield return S(Txn, "txn-compare-version", Concat(seed, Cases("ver", "3", "2", "4")));
        yield return S(Txn, "txn-compare-value", Concat(seed, Cases("val", "m", "l", "n")));
        yield return S(Txn, "txn-compare-lease",
            "etcdctl 3.4.23 panics ('bad value') parsing any lease() compare: it passes the string to "
            + "clientv3.Compare, which wants an int64. Nothing reaches the server; kept to document it.",
            Concat(seed, TxnOf(["lease(\"k\") = \"0\""], ["get k"], ["get other"])));
    }

    private static async Task HashKvIsStableAndChangesAsync(SideContext side)
    {
        static async Task<string> HashAsync(SideContext side)
        {
            var result = await side.CtlAsync("endpoint hashkv").ConfigureAwait(false);
            Assert.True(result.ExitCode == 0, $"endpoint hashkv failed on {side.Role}: {result}");
            var json = JsonNormalizer.TryParseJsonDocuments(result.Stdout)?.FirstOrDefault() as JsonArray;
            var hash = json?[0]?["HashKV"]?["hash"];
            Assert.True(hash is not null, $"no HashKV.hash in {side.Role}'s output: {result.Stdout}");
            return hash.ToJsonString();
        }

        var first = await HashAsync(side).ConfigureAwait(false);
        var second = await HashAsync(side).ConfigureAwait(false);
        Assert.True(first == second, $"{side.Role}: hashkv not stable without writes: {first} then {second}");
        var put = await side.CtlAsync("put hashkv-probe changed").ConfigureAwait(false);
        Assert.True(put.ExitCode == 0, $"put failed on {side.Role}: {put}");
        var third = await HashAsync(side).ConfigureAwait(false);
        Assert.True(third != second, $"{side.Role}: hashkv did not change after a write ({third})");
    }

    private static Task AssertNonEmptyFileAsync(string path)
    {
        var info = new FileInfo(path);
        Assert.True(info.Exists, $"{path} does not exist");
        Assert.True(info.Length > 0, $"{path} is empty");
        return Task.CompletedTask;
    }
}
