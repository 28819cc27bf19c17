using System.Diagnostics;
using System.Text;
using Grpc.Net.Client;

namespace Coordination.Compatibility.Tests.Fixtures;

/// <summary>
/// Our server, <c>dotnet Coordination.Server.dll</c> with etcd's flag names, on loopback. Supports
/// <see cref="ServerProcess.Kill"/> (SIGKILL) and <see cref="ServerProcess.RestartAsync"/> on the
/// same data directory and ports for crash tests, and extra etcd flags (for example
/// <c>--snapshot-count 50</c>).
/// </summary>
internal sealed class CoordinationProcess : ServerProcess
{
    private readonly string _serverDll;
    private readonly IReadOnlyList<string> _extraArgs;

    public CoordinationProcess(string? serverDll = null, params string[] extraArgs) : base("coordination")
    {
        _serverDll = serverDll ?? ServerLocator.FindServerDll();
        _extraArgs = extraArgs;
    }

    public static Task<CoordinationProcess> StartNewAsync(CancellationToken cancellationToken = default) =>
        StartNewAsync([], cancellationToken);

    public static async Task<CoordinationProcess> StartNewAsync(string[] extraArgs, CancellationToken cancellationToken)
    {
        var server = new CoordinationProcess(null, extraArgs);
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

    /// <summary>The dotnet host: the one running these tests when known, else <c>dotnet</c> on PATH.</summary>
    public static string DotnetHost =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

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

    public string WalDir => Path.Combine(DataDir, "member", "wal");

    public string SnapDir => Path.Combine(DataDir, "member", "snap");

    public GrpcChannel OpenChannel() => GrpcChannel.ForAddress(ClientUrl);

    /// <summary>
    /// Starts the server on this data directory (which must not be in use) and waits for it to exit
    /// by itself, as a server that refuses to start does. Returns null for the exit code when it was
    /// still running after <paramref name="timeout"/> (then it is killed).
    /// </summary>
    public async Task<(int? ExitCode, string Stdout, string Stderr)> RunExpectingExitAsync(TimeSpan timeout)
    {
        var port = FreePorts.Next();
        var (fileName, arguments) = Command(port, 0);
        var info = CreateStartInfo(fileName, arguments);

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
