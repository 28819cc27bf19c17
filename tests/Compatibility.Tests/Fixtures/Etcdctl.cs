using System.Diagnostics;
using System.Text;

namespace Coordination.Compatibility.Tests.Fixtures;

/// <summary>The outcome of one etcdctl invocation.</summary>
internal sealed record EtcdctlResult(int ExitCode, string Stdout, string Stderr, bool TimedOut, TimeSpan Elapsed)
{
    public override string ToString() =>
        $"exit={ExitCode}{(TimedOut ? " (TIMED OUT)" : "")} in {Elapsed.TotalMilliseconds:F0} ms\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>
/// Runs <c>/usr/bin/etcdctl</c> (API v3) against one endpoint. Every call is bounded twice: etcdctl's
/// own <c>--dial-timeout</c>/<c>--command-timeout</c>, and a process timeout after which it is killed.
/// </summary>
internal static class Etcdctl
{
    public const string DefaultPath = "/usr/bin/etcdctl";

    public static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(20);

    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("COMPAT_ETCDCTL_PATH") is { Length: > 0 } path ? path : DefaultPath;

    /// <param name="endpoint">for example http://127.0.0.1:2379</param>
    /// <param name="args">the command and its flags, one element per argv entry</param>
    /// <param name="format">-w value: json, simple, fields, table, protobuf</param>
    /// <param name="stdin">written to etcdctl's stdin, then closed (for txn, or put's value)</param>
    public static async Task<EtcdctlResult> RunAsync(
        string endpoint,
        IReadOnlyList<string> args,
        string format = "json",
        string? stdin = null,
        TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        var info = StartInfo(endpoint, args, format);
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = info };
        process.Start();
        ProcessRegistry.Register(process);
        try
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            var input = WriteStdinAsync(process, stdin);

            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(timeout ?? ProcessTimeout);
            var timedOut = false;
            try
            {
                await process.WaitForExitAsync(bounded.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                timedOut = true;
                ProcessRegistry.Kill(process);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }

            await input.ConfigureAwait(false);
            return new EtcdctlResult(
                timedOut ? -1 : process.ExitCode,
                await stdout.ConfigureAwait(false),
                await stderr.ConfigureAwait(false),
                timedOut,
                clock.Elapsed);
        }
        finally
        {
            ProcessRegistry.Kill(process);
            ProcessRegistry.Unregister(process);
        }
    }

    /// <summary>The process start info for one etcdctl run: API v3, bounded dial and command timeouts, no inherited ETCDCTL_* settings.</summary>
    public static ProcessStartInfo StartInfo(string endpoint, IReadOnlyList<string> args, string format)
    {
        var info = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
        };
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ETCDCTL", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["ETCDCTL_API"] = "3";
        info.ArgumentList.Add($"--endpoints={endpoint}");
        info.ArgumentList.Add($"--write-out={format}");
        info.ArgumentList.Add("--dial-timeout=2s");
        info.ArgumentList.Add($"--command-timeout={(int)CommandTimeout.TotalSeconds}s");
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    private static async Task WriteStdinAsync(Process process, string? stdin)
    {
        try
        {
            if (stdin is not null)
            {
                await process.StandardInput.WriteAsync(stdin).ConfigureAwait(false);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // etcdctl exited before reading all of its input (for example on a usage error)
        }
    }
}
