using System.Diagnostics;
using System.Threading.Channels;
using Coordination.Compatibility.Tests.Fixtures;

namespace Coordination.Concurrency.Tests.Fixtures;

/// <summary>
/// A long-running etcdctl (<c>lock</c>, <c>elect</c>, <c>elect -l</c>) whose stdout lines are read as
/// they come. <see cref="TerminateAsync"/> sends SIGINT, on which etcdctl unlocks or resigns and exits.
/// </summary>
internal sealed class EtcdctlProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly OutputBuffer _stderr = new();

    private EtcdctlProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
            }
            else
            {
                _lines.Writer.TryWrite(e.Data);
            }
        };
        _process.ErrorDataReceived += (_, e) => _stderr.AppendLine("", e.Data);
    }

    public string Stderr => _stderr.ToString();

    public bool HasExited => _process.HasExited;

    public static EtcdctlProcess Start(string endpoint, params string[] args)
    {
        var info = Etcdctl.StartInfo(endpoint, args, "simple");
        var process = new Process { StartInfo = info };
        process.Start();
        ProcessRegistry.Register(process);
        var started = new EtcdctlProcess(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    /// <summary>The next stdout line, or null when none arrives within <paramref name="timeout"/> (or the output ended).</summary>
    public async Task<string?> ReadLineAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(timeout);
        try
        {
            return await _lines.Reader.ReadAsync(bounded.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    /// <summary>SIGINT by process id, then waits for the exit.</summary>
    public async Task TerminateAsync(CancellationToken cancellationToken)
    {
        if (!_process.HasExited)
        {
            Signals.Interrupt(_process);
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(TimeSpan.FromSeconds(10));
        await _process.WaitForExitAsync(bounded.Token);
    }

    public ValueTask DisposeAsync()
    {
        ProcessRegistry.Kill(_process);
        ProcessRegistry.Unregister(_process);
        _process.Dispose();
        return ValueTask.CompletedTask;
    }
}
