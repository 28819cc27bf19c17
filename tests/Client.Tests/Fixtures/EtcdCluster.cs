using System.Diagnostics;
using Coordination.Compatibility.Tests.Fixtures;

namespace Coordination.Client.Tests.Fixtures;

/// <summary>A real etcd 3.4 cluster of several members on loopback, each a child process; members can be killed.</summary>
internal sealed class EtcdCluster : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"client-cluster-{Guid.NewGuid():N}");
    private readonly Process?[] _processes;
    private readonly int[] _clientPorts;
    private readonly int[] _peerPorts;

    private readonly TlsMaterial? _tls;

    private EtcdCluster(int size, TlsMaterial? tls)
    {
        _tls = tls;
        _processes = new Process?[size];
        _clientPorts = [.. Enumerable.Range(0, size).Select(_ => FreePorts.Next())];
        _peerPorts = [.. Enumerable.Range(0, size).Select(_ => FreePorts.Next())];
    }

    public OutputBuffer Log { get; } = new();

    public IReadOnlyList<string> ClientUrls => [.. _clientPorts.Select(p => $"{Scheme}://127.0.0.1:{p}")];

    private string Scheme => _tls is null ? "http" : "https";

    /// <summary>Starts <paramref name="size"/> members; with <paramref name="tls"/> the client URLs are https and require a client certificate.</summary>
    public static async Task<EtcdCluster> StartAsync(int size, CancellationToken cancellationToken, TlsMaterial? tls = null)
    {
        var cluster = new EtcdCluster(size, tls);
        try
        {
            var initial = string.Join(',', Enumerable.Range(0, size).Select(i => $"m{i}=http://127.0.0.1:{cluster._peerPorts[i]}"));
            for (var i = 0; i < size; i++)
            {
                cluster.Launch(i, initial);
            }

            for (var i = 0; i < size; i++)
            {
                await cluster.WaitHealthyAsync(i, cancellationToken);
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL of one member.</summary>
    public void Kill(int member)
    {
        if (_processes[member] is { } process)
        {
            ProcessRegistry.Kill(process);
            process.WaitForExit(10_000);
            ProcessRegistry.Unregister(process);
            process.Dispose();
            _processes[member] = null;
            Log.AppendLine("[fixture] ", $"killed m{member}");
        }
    }

    public int IndexOf(string clientUrl) => ClientUrls.ToList().IndexOf(clientUrl.TrimEnd('/'));

    private void Launch(int i, string initialCluster)
    {
        var info = new ProcessStartInfo(EtcdProcess.ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            "--name", $"m{i}",
            "--data-dir", Path.Combine(_root, $"m{i}"),
            "--listen-client-urls", $"{Scheme}://127.0.0.1:{_clientPorts[i]}",
            "--advertise-client-urls", $"{Scheme}://127.0.0.1:{_clientPorts[i]}",
            "--listen-peer-urls", $"http://127.0.0.1:{_peerPorts[i]}",
            "--initial-advertise-peer-urls", $"http://127.0.0.1:{_peerPorts[i]}",
            "--initial-cluster", initialCluster,
            "--initial-cluster-state", "new",
            "--initial-cluster-token", Path.GetFileName(_root),
            "--heartbeat-interval", "50",
            "--election-timeout", "500",
            .. (_tls is null ? [] : new[]
            {
                "--cert-file", _tls.ServerCertificateFile, "--key-file", _tls.ServerKeyFile,
                "--trusted-ca-file", _tls.CaFile, "--client-cert-auth",
            }),
        ];
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ETCD", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Log.AppendLine($"[m{i}] ", e.Data);
        process.ErrorDataReceived += (_, e) => Log.AppendLine($"[m{i}] ", e.Data);
        process.Start();
        ProcessRegistry.Register(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes[i] = process;
    }

    private async Task WaitHealthyAsync(int i, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(_tls?.CreateHandler() ?? new HttpClientHandler()) { Timeout = TimeSpan.FromSeconds(2) };
        var started = Stopwatch.StartNew();
        while (started.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                var body = await http.GetStringAsync($"{Scheme}://127.0.0.1:{_clientPorts[i]}/health", cancellationToken);
                if (body.Contains("\"true\"", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new InvalidOperationException($"member m{i} not healthy within 30 s.\n{Log.Tail()}");
    }

    public ValueTask DisposeAsync()
    {
        for (var i = 0; i < _processes.Length; i++)
        {
            Kill(i);
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or DirectoryNotFoundException)
        {
        }

        return ValueTask.CompletedTask;
    }
}
