using System.Diagnostics;
using Coordination.Compatibility.Tests.Fixtures;
using Etcdserverpb;
using Grpc.Net.Client;

namespace Coordination.Compatibility.Tests.Cluster;

/// <summary>
/// One member of a <see cref="LocalCluster"/>: our server as a child process with fixed loopback
/// client and peer ports and its own data directory, so it can be SIGKILLed and restarted in place.
/// </summary>
internal sealed class ClusterMember : IAsyncDisposable
{
    private readonly string _serverDll;
    private readonly IReadOnlyList<string> _extraArgs;
    private Process? _process;
    private GrpcChannel? _channel;

    public ClusterMember(string name, string root, string serverDll, IReadOnlyList<string> extraArgs)
    {
        Name = name;
        _serverDll = serverDll;
        _extraArgs = extraArgs;
        ClientPort = FreePorts.Next();
        PeerPort = FreePorts.Next();
        DataDir = Path.Combine(root, name);
    }

    public string Name { get; }

    public int ClientPort { get; }

    public int PeerPort { get; }

    public string DataDir { get; }

    public string ClientUrl => $"http://127.0.0.1:{ClientPort}";

    public string PeerUrl => $"http://127.0.0.1:{PeerPort}";

    public OutputBuffer Log { get; } = new();

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>True when the process was started and exited without being killed (for example a port was taken).</summary>
    public bool HasExitedUnexpectedly => _process is { HasExited: true };

    /// <summary>A gRPC channel to this member's client URL (kept while the process runs; a restart gets a new one).</summary>
    public GrpcChannel Channel => _channel ??= GrpcChannel.ForAddress(ClientUrl);

    public KV.KVClient Kv => new(Channel);

    public Maintenance.MaintenanceClient Maintenance => new(Channel);

    /// <summary>Starts the process (does not wait: a member is healthy only once a quorum runs).</summary>
    public void Start(string initialCluster, string state)
    {
        // A channel used while the member was down waits out its reconnect backoff and fails calls
        // meanwhile with "Error connecting to subchannel", though the restarted member serves.
        _channel?.Dispose();
        _channel = null;
        var info = new ProcessStartInfo(CoordinationProcess.DotnetHost)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            _serverDll,
            "--name", Name,
            "--data-dir", DataDir,
            "--listen-client-urls", ClientUrl,
            "--advertise-client-urls", ClientUrl,
            "--listen-peer-urls", PeerUrl,
            "--initial-advertise-peer-urls", PeerUrl,
            "--initial-cluster", initialCluster,
            "--initial-cluster-state", state,
            .. _extraArgs,
        ];
        foreach (var arg in args) info.ArgumentList.Add(arg);
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ETCD", StringComparison.Ordinal)).ToList()) info.Environment.Remove(key);
        Log.AppendLine("[fixture] ", $"starting {Name}: {string.Join(' ', args)}");
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Log.AppendLine($"[{Name}] ", e.Data);
        process.ErrorDataReceived += (_, e) => Log.AppendLine($"[{Name} err] ", e.Data);
        process.Start();
        ProcessRegistry.Register(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
    }

    /// <summary>SIGTERM: a graceful stop, as `docker stop` or systemd asks; waits up to 15 s for the exit.</summary>
    public async Task TerminateAsync()
    {
        if (_process is null) return;
        Signals.Terminate(_process);
        if (!await WaitForExitAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false)) Kill();
        Log.AppendLine("[fixture] ", $"terminated {Name}");
    }

    /// <summary>SIGKILL: no graceful shutdown.</summary>
    public void Kill()
    {
        if (_process is null) return;
        ProcessRegistry.Kill(_process);
        _process.WaitForExit(10_000);
        ProcessRegistry.Unregister(_process);
        _process.Dispose();
        _process = null;
        Log.AppendLine("[fixture] ", $"killed {Name}");
    }

    /// <summary>Waits until the process exits by itself (a removed member stops); false on timeout.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        if (_process is null) return true;
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>This member's status, or null when it does not answer within a second.</summary>
    public async Task<StatusResponse?> TryStatusAsync(CancellationToken cancellationToken)
    {
        if (!IsRunning) return null;
        try
        {
            return await Maintenance.StatusAsync(new StatusRequest(), deadline: DateTime.UtcNow.AddSeconds(1), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Grpc.Core.RpcException)
        {
            return null;
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _channel?.Dispose();
        return ValueTask.CompletedTask;
    }
}
