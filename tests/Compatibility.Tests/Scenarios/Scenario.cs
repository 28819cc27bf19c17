using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Coordination.Compatibility.Tests.Fixtures;

namespace Coordination.Compatibility.Tests.Scenarios;

/// <summary>A scripted etcdctl session, run against a fresh real etcd and a fresh server under test.</summary>
/// <param name="Group">the test class that runs it (groups run in parallel with each other)</param>
/// <param name="Name">unique; the xunit case name</param>
/// <param name="Steps">run in order on both servers</param>
/// <param name="Note">why the scenario exists or what it cannot show, for the matrix</param>
internal sealed record Scenario(string Group, string Name, IReadOnlyList<Step> Steps, string? Note = null)
{
    public override string ToString() => Name;
}

/// <summary>One step of a scenario.</summary>
internal abstract record Step
{
    public abstract string Describe();
}

/// <summary>
/// One etcdctl invocation, compared across the two servers: exit code, normalized stdout and the
/// normalized error lines of stderr. <c>{dir}</c> in an argument is the server's scratch directory,
/// <c>{NAME}</c> a value captured by an earlier step.
/// </summary>
internal sealed partial record CtlStep(IReadOnlyList<string> Args, string Format = "json") : Step
{
    /// <summary>Builds the standard input lazily (some are megabytes).</summary>
    public Func<string>? Stdin { get; init; }

    /// <summary>A short description of the stdin, for reports.</summary>
    public string? StdinLabel { get; init; }

    /// <summary>Captures a value from this step's JSON stdout into a variable for later steps.</summary>
    public (string Name, Func<JsonNode, string> Select)? Capture { get; init; }

    /// <summary>Compare stdout (default). Off for outputs that are legitimately different as a whole.</summary>
    public bool CompareStdout { get; init; } = true;

    /// <summary>Captures <c>ID</c> of a JSON response (lease grant) as hex, the form etcdctl takes.</summary>
    public CtlStep CaptureLease(string name) =>
        this with { Capture = (name, json => ulong.Parse(json["ID"]!.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture).ToString("x", System.Globalization.CultureInfo.InvariantCulture)) };

    public CtlStep WithStdin(string stdin, string? label = null) => this with { Stdin = () => stdin, StdinLabel = label ?? stdin };

    public override string Describe()
    {
        var text = new StringBuilder("etcdctl -w ").Append(Format);
        foreach (var arg in Args)
        {
            text.Append(' ').Append(arg.Length == 0 || arg.Contains(' ', StringComparison.Ordinal) ? $"\"{arg}\"" : arg);
        }

        if (StdinLabel is not null)
        {
            var label = StdinLabel.Length > 400 ? StdinLabel[..400] + "..." : StdinLabel;
            text.Append("  <<< ").Append(label.Replace("\n", "\\n", StringComparison.Ordinal));
        }

        return text.ToString();
    }

    /// <summary>Splits a command line on spaces; double quotes group (<c>""</c> is an empty argument).</summary>
    public static IReadOnlyList<string> Tokenize(string commandLine)
    {
        var args = new List<string>();
        foreach (Match match in Token().Matches(commandLine))
        {
            args.Add(match.Groups["q"].Success ? match.Groups["q"].Value : match.Groups["w"].Value);
        }

        return args;
    }

    [GeneratedRegex(@"""(?<q>[^""]*)""|(?<w>\S+)")]
    private static partial Regex Token();
}

/// <summary>
/// A property checked on each server separately (not compared across them), for outputs that
/// legitimately differ between implementations, such as hashes or snapshot files.
/// </summary>
internal sealed record CheckStep(string Description, Func<SideContext, Task> Check) : Step
{
    public override string Describe() => "check: " + Description;
}

/// <summary>
/// Starts a long-running etcdctl (<c>watch</c>) in the background under <paramref name="Name"/>;
/// later steps feed it lines, wait for its output and stop it.
/// </summary>
internal sealed record BackgroundStartStep(string Name, IReadOnlyList<string> Args, string Format = "json") : Step
{
    public override string Describe() => $"start [{Name}] etcdctl -w {Format} {string.Join(' ', Args)}";
}

/// <summary>Writes one line to a background etcdctl's stdin (an interactive <c>watch -i</c> command).</summary>
internal sealed record BackgroundInputStep(string Name, string Line) : Step
{
    public override string Describe() => $"[{Name}] <<< {Line}";
}

/// <summary>
/// Waits on each side until a background etcdctl's stdout satisfies <paramref name="Until"/>
/// (bounded); a side that never gets there fails the scenario.
/// </summary>
internal sealed record BackgroundWaitStep(string Name, string Description, Func<string, bool> Until) : Step
{
    public override string Describe() => $"[{Name}] wait until {Description}";
}

/// <summary>
/// Stops a background etcdctl (closes stdin, or with <paramref name="Interrupt"/> sends it SIGINT
/// as Ctrl-C would; kills it after <paramref name="GraceMs"/>) and compares its whole output across
/// the two servers like a <see cref="CtlStep"/>.
/// </summary>
internal sealed record BackgroundStopStep(string Name, int GraceMs = 0, bool Interrupt = false) : Step
{
    public override string Describe() => $"{(Interrupt ? "interrupt" : "stop")} [{Name}] and compare its output";
}

/// <summary>What a step sees of one side: its server, its captured variables, an etcdctl bound to it.</summary>
internal sealed partial class SideContext(string role, ServerProcess server)
{
    public string Role { get; } = role;

    public ServerProcess Server { get; } = server;

    public Dictionary<string, string> Variables { get; } = new(StringComparer.Ordinal);

    /// <summary>Background etcdctl processes by step name.</summary>
    public Dictionary<string, EtcdctlSession> Sessions { get; } = new(StringComparer.Ordinal);

    public JsonNormalizer Normalizer { get; } = new(
    [
        (server.WorkDir, "{dir}"),
        (server.ClientUrl, "<endpoint>"),
        ($"127.0.0.1:{server.ClientPort}", "<endpoint>"),
    ]);

    public string Expand(string arg) => Placeholder().Replace(arg, m => m.Groups[1].Value switch
    {
        "dir" => Server.WorkDir,
        var name when Variables.TryGetValue(name, out var value) => value,
        var name => throw new InvalidOperationException($"unknown variable {{{name}}} in '{arg}'"),
    });

    public Task<EtcdctlResult> CtlAsync(string commandLine, string format = "json", string? stdin = null) =>
        Etcdctl.RunAsync(Server.ClientUrl, CtlStep.Tokenize(commandLine).Select(Expand).ToList(), format, stdin);

    [GeneratedRegex(@"\{(\w+)\}")]
    private static partial Regex Placeholder();
}
