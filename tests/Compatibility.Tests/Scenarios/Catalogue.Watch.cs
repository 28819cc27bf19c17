namespace Coordination.Compatibility.Tests.Scenarios;

/// <summary>
/// Watch scenarios: <c>etcdctl watch</c> runs in the background while other steps write, and its
/// whole output is compared at the end. Every watch names its start revision (<c>--rev</c>) so the
/// output does not depend on how fast etcdctl connects; a step waits for the catch-up events
/// before further writes so that both servers batch history the same way.
/// </summary>
internal static partial class Catalogue
{
    public const string Watch = "watch";

    /// <summary>JSON watch output: one document per response, each with an "Events" array.</summary>
    private static int EventCount(string stdout) => CountOf(stdout, "\"mod_revision\":") - CountOf(stdout, "\"prev_kv\":");

    private static int CountOf(string text, string what)
    {
        int count = 0;
        for (int at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    private static BackgroundStartStep WatchStart(string commandLine, string format = "json") => new("watch", CtlStep.Tokenize(commandLine), format);

    private static BackgroundWaitStep WaitEvents(int count) => new("watch", $"{count} events", stdout => EventCount(stdout) >= count);

    private static BackgroundWaitStep WaitText(string text) => new("watch", $"'{text}' printed", stdout => stdout.Contains(text, StringComparison.Ordinal));

    private static BackgroundStopStep WatchStop(int graceMs = 0) => new("watch", graceMs);

    private static IEnumerable<Scenario> WatchScenarios()
    {
        yield return S(Watch, "watch-key-from-revision",
            Put("foo", "1"), Put("bar", "x"),
            WatchStart("watch foo --rev=1"), WaitEvents(1),
            Put("foo", "2"), Put("other", "y"), Put("foo", "3"), Ctl("del foo"),
            WaitEvents(4), WatchStop());

        yield return S(Watch, "watch-prefix-prev-kv",
            Put("p/a", "1"), Put("q", "0"),
            WatchStart("watch p/ --prefix --prev-kv --rev=2"), WaitEvents(1),
            Put("p/a", "2"), Put("p/b", "1"), Put("pq", "not in prefix"), Ctl("del p/ --prefix"), Put("p/a", "3"),
            WaitEvents(6), WatchStop());

        yield return S(Watch, "watch-range-history-batch",
            "history replayed in one response per revision batch, then live events",
            Put("r/1", "a"), Put("r/2", "b"), Put("r/1", "c"), Ctl("del r/2"), Put("s", "outside"),
            WatchStart("watch r/1 r/3 --rev=1 --prev-kv"), WaitEvents(4),
            Put("r/2", "d"), WaitEvents(5), WatchStop());

        yield return S(Watch, "watch-txn-events-in-one-response",
            Put("t/a", "0"),
            WatchStart("watch t/ --prefix --rev=2"), WaitEvents(1),
            TxnOf([], ["put t/a 1", "put t/b 2", "put t/c 3"], []), TxnOf(["val(\"t/a\") = \"1\""], ["del t/ --prefix"], []),
            WaitEvents(7), WatchStop());

        yield return S(Watch, "watch-compacted-revision",
            "created, then canceled with compact_revision; etcdctl prints it and exits",
            Put("foo", "1"), Put("foo", "2"), Put("foo", "3"), Put("foo", "4"), Ctl("compact 4"),
            WatchStart("watch foo --rev=2"), WaitText("\"Canceled\":true"), WatchStop(graceMs: 5000));

        yield return S(Watch, "watch-simple-format",
            Put("foo", "1"),
            WatchStart("watch foo --prev-kv --rev=2", "simple"), WaitText("1\n"),
            Put("foo", "2"), Ctl("del foo"), WaitText("DELETE"), WatchStop());

        yield return S(Watch, "watch-interactive-progress",
            "watch -i: a watch command, events, then a progress request answered with the current revision",
            Put("foo", "1"), Put("foo", "2"),
            WatchStart("watch -i", "simple"),
            new BackgroundInputStep("watch", "watch foo --rev=2"), WaitText("2\n"),
            Put("foo", "3"), Put("bar", "unwatched"), WaitText("3\n"),
            new BackgroundInputStep("watch", "progress"), WaitText("progress notify: 5"),
            WatchStop(graceMs: 5000));
    }
}
