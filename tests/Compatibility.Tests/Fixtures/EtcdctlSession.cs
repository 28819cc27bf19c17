using System.Diagnostics;
using System.Text;

namespace Coordination.Compatibility.Tests.Fixtures;

/// <summary>
/// A long-running etcdctl (for example <c>watch</c>, or <c>watch -i</c> fed commands line by line)
/// whose output is collected while other steps run. Bounded: waits time out, and
/// <see cref="StopAsync"/> kills the process if it does not end by itself.
/// </summary>
internal sealed class EtcdctlSession : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly Lock _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Task _pumps;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private EtcdctlSession(Process process)
    {
        _process = process;
        _pumps = Task.WhenAll(PumpAsync(process.StandardOutput, _stdout), PumpAsync(process.StandardError, _stderr));
    }

    public static EtcdctlSession Start(string endpoint, IReadOnlyList<string> args, string format)
    {
        var process = new Process { StartInfo = Etcdctl.StartInfo(endpoint, args, format) };
        process.Start();
        ProcessRegistry.Register(process);
        return new EtcdctlSession(process);
    }

    public string Stdout
    {
        get { lock (_gate) return _stdout.ToString(); }
    }

    /// <summary>Writes one line to etcdctl's stdin (an interactive command).</summary>
    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteAsync(line + "\n").ConfigureAwait(false);
        await _process.StandardInput.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Waits until stdout satisfies <paramref name="until"/>; false after <paramref name="timeout"/>.</summary>
    public async Task<bool> WaitUntilAsync(Func<string, bool> until, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (until(_stdout.ToString())) return true;
                changed = _changed.Task;
            }

            if (_process.HasExited && _pumps.IsCompleted) return until(Stdout);
            try
            {
                await changed.WaitAsync(bounded.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return until(Stdout);
            }
        }
    }

    /// <summary>
    /// Closes stdin (and with <paramref name="interrupt"/> sends SIGINT, as Ctrl-C: <c>lock</c> and
    /// <c>elect</c> then release what they hold); waits up to <paramref name="grace"/> for etcdctl
    /// to end by itself (interactive mode ends on end of input), then kills it. A killed process
    /// reports exit code -1.
    /// </summary>
    public async Task<EtcdctlResult> StopAsync(TimeSpan grace, bool interrupt = false)
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // Already gone.
        }

        if (interrupt && !_process.HasExited)
        {
            Signals.Interrupt(_process);
        }

        bool killed = false;
        using (var wait = new CancellationTokenSource(grace))
        {
            try
            {
                await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                killed = true;
                ProcessRegistry.Kill(_process);
                await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        await _pumps.ConfigureAwait(false);
        lock (_gate)
        {
            return new EtcdctlResult(killed ? -1 : _process.ExitCode, _stdout.ToString(), _stderr.ToString(), TimedOut: false, _clock.Elapsed);
        }
    }

    public async ValueTask DisposeAsync()
    {
        ProcessRegistry.Kill(_process);
        ProcessRegistry.Unregister(_process);
        try
        {
            await _pumps.ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The pipes closed with the process.
        }

        _process.Dispose();
    }

    private async Task PumpAsync(StreamReader reader, StringBuilder into)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            TaskCompletionSource changed;
            lock (_gate)
            {
                into.Append(buffer, 0, read);
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            changed.TrySetResult();
        }
    }
}
