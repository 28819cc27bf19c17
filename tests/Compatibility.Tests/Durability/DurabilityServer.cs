using System.Diagnostics;
using System.Text;
using Coordination.Compatibility.Tests.Fixtures;
using Grpc.Net.Client;

namespace Coordination.Compatibility.Tests.Durability;

/// <summary>
/// Our server as a child process, like <see cref="CoordinationProcess"/> but with extra etcd flags
/// (for example <c>--snapshot-count 50</c>). Kill/restart/readiness come from <see cref="ServerProcess"/>.
/// </summary>
internal sealed class DurabilityServer : ServerProcess
{
    private readonly string _serverDll = ServerLocator.FindServerDll();
    private readonly IReadOnlyList<string> _extraArgs;

    public DurabilityServer(params string[] extraArgs) : base("coordination")
    {
        _extraArgs = extraArgs;
    }

    public static async Task<DurabilityServer> StartNewAsync(string[] extraArgs, CancellationToken cancellationToken)
    {
        var server = new DurabilityServer(extraArgs);
        try
        {
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The dotnet host running these tests when known, else <c>dotnet</c> on PATH.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    public string WalDir => Path.Combine(DataDir, "member", "wal");

    public string SnapDir => Path.Combine(DataDir, "member", "snap");

    public GrpcChannel OpenChannel() => GrpcChannel.ForAddress(ClientUrl);

    protected override (string FileName, IReadOnlyList<string> Arguments) Command(int clientPort, int peerPort)
    {
        var client = $"http://127.0.0.1:{clientPort}";
        return (DotnetHost,
        [
            _serverDll,
            "--name", "default",
            "--data-dir", DataDir,
            "--listen-client-urls", client,
            "--advertise-client-urls", client,
            .. _extraArgs,
        ]);
    }

    /// <summary>
    /// Starts the server on this data directory (which must not be in use) and waits for it to exit
    /// by itself, as a server that refuses to start does. Returns null for the exit code when it was
    /// still running after <paramref name="timeout"/> (then it is killed).
    /// </summary>
    public async Task<(int? ExitCode, string Stdout, string Stderr)> RunExpectingExitAsync(TimeSpan timeout)
    {
        var port = FreePorts.Next();
        var (fileName, arguments) = Command(port, 0);
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = WorkDir,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ETCD", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (stderr) stderr.AppendLine(e.Data); };
        process.Start();
        ProcessRegistry.Register(process);
        try
        {
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var cts = new CancellationTokenSource(timeout);
            int? code;
            try
            {
                await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
                process.WaitForExit(); // flush the output handlers
                code = process.ExitCode;
            }
            catch (OperationCanceledException)
            {
                code = null;
            }

            return (code, Locked(stdout), Locked(stderr));
        }
        finally
        {
            ProcessRegistry.Kill(process);
            process.WaitForExit(10_000);
            ProcessRegistry.Unregister(process);
        }

        static string Locked(StringBuilder sb)
        {
            lock (sb)
            {
                return sb.ToString();
            }
        }
    }
}
