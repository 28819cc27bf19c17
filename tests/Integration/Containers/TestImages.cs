using System.Diagnostics;

namespace Coordination.Integration.Tests.Containers;

/// <summary>
/// The two images the scenarios run, built once per test run from the repository by
/// <c>tools/containers/build-images.sh</c> (FROM scratch; no registry needed).
/// </summary>
internal static class TestImages
{
    public const string Server = "coordination-server:test";
    public const string Etcd = "coordination-etcd:3.4";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Task? _built;

    /// <summary>Builds both images the first time it is called in this process.</summary>
    public static async Task EnsureBuiltAsync(CancellationToken cancellationToken)
    {
        await Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _built ??= BuildAsync();
        }
        finally
        {
            Gate.Release();
        }
        await _built.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task BuildAsync()
    {
        var script = Path.Combine(RepositoryRoot(), "tools", "containers", "build-images.sh");
        var start = new ProcessStartInfo("bash", [script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start bash");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} failed with exit code {process.ExitCode}:\n{await stdout.ConfigureAwait(false)}\n{await stderr.ConfigureAwait(false)}");
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Coordination.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException($"no Coordination.sln above {AppContext.BaseDirectory}");
    }
}
