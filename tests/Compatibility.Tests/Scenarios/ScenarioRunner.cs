using System.Text;
using System.Text.Json.Nodes;
using Coordination.Compatibility.Tests.Fixtures;

namespace Coordination.Compatibility.Tests.Scenarios;

/// <summary>
/// Runs a scenario on a fresh real etcd (the reference) and a fresh server under test, started in
/// parallel, and fails with a full transcript when any step differs. The server under test is ours
/// unless <c>COMPAT_TARGET=etcd</c>, which runs etcd against etcd: the self-check of the harness
/// and of <see cref="JsonNormalizer"/>.
/// </summary>
internal static class ScenarioRunner
{
    public static bool TargetIsEtcd =>
        string.Equals(Environment.GetEnvironmentVariable("COMPAT_TARGET"), "etcd", StringComparison.OrdinalIgnoreCase);

    /// <summary><c>COMPAT_VERBOSE=1</c> puts every normalized output in the test output, not only differences.</summary>
    private static bool Verbose => Environment.GetEnvironmentVariable("COMPAT_VERBOSE") == "1";

    public static async Task RunAsync(Scenario scenario, CancellationToken cancellationToken)
    {
        var (reference, target) = await StartPairAsync(cancellationToken).ConfigureAwait(false);
        await using var referenceScope = reference;
        await using var targetScope = target;

        var left = new SideContext("etcd", reference);
        var right = new SideContext(TargetIsEtcd ? "etcd (self-check)" : "coordination", target);

        await using var sessions = new SessionScope(left, right);
        var transcript = new StringBuilder();
        var failures = new List<string>();
        var stepNumber = 0;
        foreach (var step in scenario.Steps)
        {
            stepNumber++;
            var header = $"#{stepNumber} {step.Describe()}";
            switch (step)
            {
                case CtlStep ctl:
                {
                    var (l, r) = await RunBothAsync(ctl, left, right, cancellationToken).ConfigureAwait(false);
                    var differences = Compare(ctl, l, r);
                    var entry = $"{header}\n  -> exit {l.Result.ExitCode} vs {r.Result.ExitCode}{(differences.Count == 0 ? ", equal" : ", DIFFERENT: " + string.Join(", ", differences))}";
                    transcript.AppendLine(entry);
                    if (Verbose)
                    {
                        transcript.AppendLine(Indent(r.Stdout)).AppendLine(Indent(r.Stderr));
                    }
                    if (differences.Count > 0)
                    {
                        failures.Add(Report(header, differences, l, r, left.Role, right.Role));
                    }

                    break;
                }

                case BackgroundStartStep start:
                    foreach (var side in new[] { left, right })
                    {
                        side.Sessions[start.Name] = EtcdctlSession.Start(side.Server.ClientUrl, start.Args.Select(side.Expand).ToList(), start.Format);
                    }

                    transcript.AppendLine(header);
                    break;

                case BackgroundInputStep input:
                    await Task.WhenAll(left.Sessions[input.Name].WriteLineAsync(input.Line), right.Sessions[input.Name].WriteLineAsync(input.Line)).ConfigureAwait(false);
                    transcript.AppendLine(header);
                    break;

                case BackgroundWaitStep wait:
                {
                    var reached = await Task.WhenAll(
                        left.Sessions[wait.Name].WaitUntilAsync(wait.Until, BackgroundWaitTimeout, cancellationToken),
                        right.Sessions[wait.Name].WaitUntilAsync(wait.Until, BackgroundWaitTimeout, cancellationToken)).ConfigureAwait(false);
                    transcript.AppendLine($"{header} -> {(reached[0] ? "reached" : "TIMED OUT")} vs {(reached[1] ? "reached" : "TIMED OUT")}");
                    foreach (var (side, ok) in new[] { (left, reached[0]), (right, reached[1]) })
                    {
                        if (!ok)
                        {
                            failures.Add($"{header} not reached on {side.Role} in {BackgroundWaitTimeout.TotalSeconds} s; stdout so far:\n{Indent(side.Sessions[wait.Name].Stdout)}");
                        }
                    }

                    break;
                }

                case BackgroundStopStep stop:
                {
                    var grace = TimeSpan.FromMilliseconds(stop.GraceMs);
                    var results = await Task.WhenAll(left.Sessions[stop.Name].StopAsync(grace, stop.Interrupt), right.Sessions[stop.Name].StopAsync(grace, stop.Interrupt)).ConfigureAwait(false);
                    var l = new SideOutcome(results[0], left.Normalizer.NormalizeStdout(results[0].Stdout), left.Normalizer.NormalizeStderr(results[0].Stderr));
                    var r = new SideOutcome(results[1], right.Normalizer.NormalizeStdout(results[1].Stdout), right.Normalizer.NormalizeStderr(results[1].Stderr));
                    var differences = Compare(new CtlStep([]), l, r);
                    transcript.AppendLine($"{header}\n  -> exit {l.Result.ExitCode} vs {r.Result.ExitCode}{(differences.Count == 0 ? ", equal" : ", DIFFERENT: " + string.Join(", ", differences))}");
                    if (Verbose)
                    {
                        transcript.AppendLine(Indent(r.Stdout)).AppendLine(Indent(r.Stderr));
                    }

                    if (differences.Count > 0)
                    {
                        failures.Add(Report(header, differences, l, r, left.Role, right.Role));
                    }

                    break;
                }

                case CheckStep check:
                    foreach (var side in new[] { left, right })
                    {
                        try
                        {
                            await check.Check(side).ConfigureAwait(false);
                            transcript.AppendLine($"{header} [{side.Role}] ok");
                        }
                        catch (Exception e)
                        {
                            transcript.AppendLine($"{header} [{side.Role}] FAILED: {e.Message}");
                            failures.Add($"{header} failed on {side.Role}:\n{e.Message}");
                        }
                    }

                    break;
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine(transcript.ToString());
        if (failures.Count > 0)
        {
            var message = new StringBuilder()
                .AppendLine($"Scenario '{scenario.Name}': {failures.Count} step(s) differ between etcd and {right.Role}.")
                .AppendLine()
                .AppendLine("Transcript:")
                .AppendLine(transcript.ToString())
                .AppendLine(string.Join("\n\n", failures));
            if (!TargetIsEtcd)
            {
                message.AppendLine().AppendLine($"--- {right.Role} server log (tail) ---").AppendLine(target.Log.Tail(4000));
            }

            Assert.Fail(message.ToString());
        }
    }

    private static readonly TimeSpan BackgroundWaitTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Kills whatever background etcdctl a scenario left running.</summary>
    private sealed class SessionScope(SideContext left, SideContext right) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (var session in left.Sessions.Values.Concat(right.Sessions.Values))
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    internal sealed record SideOutcome(EtcdctlResult Result, string Stdout, string Stderr);

    private static async Task<(SideOutcome Left, SideOutcome Right)> RunBothAsync(
        CtlStep step, SideContext left, SideContext right, CancellationToken cancellationToken)
    {
        var stdin = step.Stdin?.Invoke();
        var runs = await Task.WhenAll(RunOneAsync(step, left, stdin, cancellationToken), RunOneAsync(step, right, stdin, cancellationToken))
            .ConfigureAwait(false);
        return (runs[0], runs[1]);
    }

    private static async Task<SideOutcome> RunOneAsync(CtlStep step, SideContext side, string? stdin, CancellationToken cancellationToken)
    {
        var args = step.Args.Select(side.Expand).ToList();
        var result = await Etcdctl.RunAsync(side.Server.ClientUrl, args, step.Format, stdin, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        if (step.Capture is { } capture && result.ExitCode == 0
            && JsonNormalizer.TryParseJsonDocuments(result.Stdout) is [JsonNode json, ..])
        {
            side.Variables[capture.Name] = capture.Select(json);
        }

        return new SideOutcome(result, side.Normalizer.NormalizeStdout(result.Stdout), side.Normalizer.NormalizeStderr(result.Stderr));
    }

    private static List<string> Compare(CtlStep step, SideOutcome l, SideOutcome r)
    {
        var differences = new List<string>();
        if (l.Result.ExitCode != r.Result.ExitCode)
        {
            differences.Add("exit code");
        }

        if (step.CompareStdout && l.Stdout != r.Stdout)
        {
            differences.Add("stdout");
        }

        if (l.Stderr != r.Stderr)
        {
            differences.Add("stderr");
        }

        return differences;
    }

    private static string Report(string header, List<string> differences, SideOutcome l, SideOutcome r, string leftRole, string rightRole)
    {
        var text = new StringBuilder().AppendLine($"{header}: {string.Join(", ", differences)} differ");
        void Side(string role, SideOutcome o)
        {
            text.AppendLine($"  [{role}] exit {o.Result.ExitCode}{(o.Result.TimedOut ? " (timed out)" : "")}, {o.Result.Elapsed.TotalMilliseconds:F0} ms");
            text.AppendLine($"  [{role}] normalized stdout:").AppendLine(Indent(o.Stdout));
            text.AppendLine($"  [{role}] normalized stderr:").AppendLine(Indent(o.Stderr));
        }

        Side(leftRole, l);
        Side(rightRole, r);
        if (differences.Contains("stderr") || differences.Contains("exit code"))
        {
            text.AppendLine($"  [{rightRole}] raw stderr:").AppendLine(Indent(Truncate(r.Result.Stderr)));
        }

        return text.ToString();
    }

    private static string Indent(string text) => "    " + Truncate(text).Replace("\n", "\n    ", StringComparison.Ordinal);

    private static string Truncate(string text) => text.Length > 6000 ? text[..6000] + "\n[... truncated]" : text;

    /// <summary>Starts etcd and the server under test in parallel; if either fails, disposes the other.</summary>
    private static async Task<(ServerProcess Reference, ServerProcess Target)> StartPairAsync(CancellationToken cancellationToken)
    {
        var starts = new[]
        {
            Upcast(EtcdProcess.StartNewAsync(cancellationToken)),
            TargetIsEtcd ? Upcast(EtcdProcess.StartNewAsync(cancellationToken)) : Upcast(CoordinationProcess.StartNewAsync(cancellationToken)),
        };
        try
        {
            await Task.WhenAll(starts).ConfigureAwait(false);
        }
        catch
        {
            foreach (var start in starts.Where(s => s.IsCompletedSuccessfully))
            {
                await start.Result.DisposeAsync().ConfigureAwait(false);
            }

            var errors = starts.Where(s => s.IsFaulted).Select(s => s.Exception!.GetBaseException().Message);
            throw new InvalidOperationException("Could not start the servers:\n" + string.Join("\n\n", errors));
        }

        return (starts[0].Result, starts[1].Result);
    }

    private static async Task<ServerProcess> Upcast<T>(Task<T> start) where T : ServerProcess => await start.ConfigureAwait(false);
}
