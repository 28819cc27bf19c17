namespace Coordination.Compatibility.Tests.Fixtures;

/// <summary>
/// Our server, <c>dotnet Coordination.Server.dll</c> with etcd's flag names, on loopback. Supports
/// <see cref="ServerProcess.Kill"/> (SIGKILL) and <see cref="ServerProcess.RestartAsync"/> on the
/// same data directory and ports for crash tests.
/// </summary>
internal sealed class CoordinationProcess : ServerProcess
{
    private readonly string _serverDll;

    public CoordinationProcess(string? serverDll = null) : base("coordination")
    {
        _serverDll = serverDll ?? ServerLocator.FindServerDll();
    }

    public static async Task<CoordinationProcess> StartNewAsync(CancellationToken cancellationToken = default)
    {
        var server = new CoordinationProcess();
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
    private static string DotnetHost =>
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
        ]);
    }
}
