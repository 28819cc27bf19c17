using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;

namespace Coordination.Compatibility.Tests.Fixtures;

/// <summary>
/// A server (real etcd or ours) running as a child process on loopback, with its own temp directory
/// (<see cref="DataDir"/> for the server, <see cref="WorkDir"/> for files a scenario writes, such as
/// snapshots). Output is captured into <see cref="Log"/>. Disposing kills the process and deletes
/// the directory.
/// </summary>
internal abstract class ServerProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private const int StartAttempts = 3;

    private readonly string _root;
    private Process? _process;
    private int _disposed;

    protected ServerProcess(string kind)
    {
        Kind = kind;
        _root = Path.Combine(Path.GetTempPath(), $"compat-{kind}-{Guid.NewGuid():N}");
        DataDir = Path.Combine(_root, "data");
        WorkDir = Path.Combine(_root, "work");
        Directory.CreateDirectory(WorkDir);
    }

    /// <summary>"etcd" or "coordination": used in messages.</summary>
    public string Kind { get; }

    public string DataDir { get; }

    public string WorkDir { get; }

    public int ClientPort { get; private set; }

    public string ClientUrl => $"http://127.0.0.1:{ClientPort}";

    public OutputBuffer Log { get; } = new();

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Executable and arguments for the given ports (the peer port may be ignored).</summary>
    protected abstract (string FileName, IReadOnlyList<string> Arguments) Command(int clientPort, int peerPort);

    /// <summary>Picks free ports and starts the server, retrying with new ports when it exits early
    /// (typically because another process grabbed a port in between); waits until ready.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        Exception? last = null;
        for (var attempt = 1; attempt <= StartAttempts; attempt++)
        {
            ClientPort = FreePorts.Next();
            var peerPort = FreePorts.Next();
            try
            {
                await LaunchAndWaitAsync(peerPort, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (ServerExitedException e)
            {
                last = e;
                Log.AppendLine("[fixture] ", $"attempt {attempt} failed: {e.Message}");
            }
        }

        throw new InvalidOperationException($"{Kind} did not start after {StartAttempts} attempts.\n{Log.Tail()}", last);
    }

    /// <summary>Starts again on the same ports and data directory (after <see cref="Kill"/>).</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        Kill();
        await LaunchAndWaitAsync(_lastPeerPort, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>SIGKILL: no graceful shutdown, for crash tests.</summary>
    public void Kill()
    {
        if (_process is null)
        {
            return;
        }

        ProcessRegistry.Kill(_process);
        _process.WaitForExit(10_000);
        ProcessRegistry.Unregister(_process);
        _process.Dispose();
        _process = null;
        Log.AppendLine("[fixture] ", "killed");
    }

    private int _lastPeerPort;

    /// <summary>How every server process is started: output captured, no shell, and no ETCD_*
    /// variables from the test host's environment (etcd and our server both read them).</summary>
    protected ProcessStartInfo CreateStartInfo(string fileName, IReadOnlyList<string> arguments)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
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

        return info;
    }

    private async Task LaunchAndWaitAsync(int peerPort, CancellationToken cancellationToken)
    {
        _lastPeerPort = peerPort;
        var (fileName, arguments) = Command(ClientPort, peerPort);
        var info = CreateStartInfo(fileName, arguments);

        Log.AppendLine("[fixture] ", $"starting: {fileName} {string.Join(' ', arguments)}");
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        // Another test's server can take the port between FreePorts.Next and this server's bind and
        // answer /health in its place: ready also needs this process to say it serves the port (ours
        // "ready to serve client requests on http://127.0.0.1:P/", etcd "serving ... client requests on 127.0.0.1:P").
        var servesPort = new StrongBox<bool>();
        var marker = $"127.0.0.1:{ClientPort}";
        void Watch(string? line)
        {
            if (line is not null && line.Contains("client requests on", StringComparison.Ordinal) && line.Contains(marker, StringComparison.Ordinal)) Volatile.Write(ref servesPort.Value, true);
        }
        process.OutputDataReceived += (_, e) => { Watch(e.Data); Log.AppendLine("[out] ", e.Data); };
        process.ErrorDataReceived += (_, e) => { Watch(e.Data); Log.AppendLine("[err] ", e.Data); };
        process.Start();
        ProcessRegistry.Register(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        await WaitReadyAsync(process, servesPort, cancellationToken).ConfigureAwait(false);
    }

    private async Task WaitReadyAsync(Process process, StrongBox<bool> servesPort, CancellationToken cancellationToken)
    {
        using var http1 = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        using var http2 = new HttpClient
        {
            Timeout = TimeSpan.FromSeconds(2),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact, // h2c with prior knowledge
        };
        var deadline = Stopwatch.StartNew();
        var lastError = "no attempt yet";
        var useHttp2 = false;
        while (deadline.Elapsed < ReadyTimeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                process.WaitForExit(); // flush the output handlers
                var code = process.ExitCode;
                Kill();
                throw new ServerExitedException($"{Kind} exited with code {code} before becoming ready");
            }

            try
            {
                // /health answers {"health":"true"} when a leader exists and a read succeeds. A server
                // that serves only h2c refuses HTTP/1.1; alternate between the two.
                var client = useHttp2 ? http2 : http1;
                using var response = await client.GetAsync($"{ClientUrl}/health", cancellationToken).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                var healthy = response.IsSuccessStatusCode && body.Contains("\"true\"", StringComparison.Ordinal);
                if (healthy && Volatile.Read(ref servesPort.Value))
                {
                    Log.AppendLine("[fixture] ", $"ready after {deadline.ElapsedMilliseconds} ms ({(useHttp2 ? "h2c" : "HTTP/1.1")})");
                    return;
                }

                lastError = healthy ? "healthy, but this process has not yet said it serves client requests on its port" : $"{(int)response.StatusCode} {body}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                lastError = e.Message;
                useHttp2 = !useHttp2;
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }

        Kill();
        throw new InvalidOperationException(
            $"{Kind} not ready on {ClientUrl}/health within {ReadyTimeout.TotalSeconds} s (last: {lastError}).\n{Log.Tail()}");
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Kill();
            try
            {
                Directory.Delete(_root, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // best effort: a file still held open by a dying process
            }
        }

        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    private sealed class ServerExitedException(string message) : Exception(message);
}
