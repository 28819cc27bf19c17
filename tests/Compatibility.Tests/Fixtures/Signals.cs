using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Coordination.Compatibility.Tests.Fixtures;

/// <summary>
/// Sends POSIX signals to child processes through libc, so the tests need no <c>kill</c> executable
/// (procps is not on every clean machine).
/// </summary>
internal static class Signals
{
    private const int SigInt = 2;
    private const int SigTerm = 15;

    /// <summary>Ctrl-C for <paramref name="process"/>: etcdctl's lock releases and elect resigns on it.</summary>
    public static void Interrupt(Process process)
    {
        if (process.HasExited) return;
        if (Kill(process.Id, SigInt) != 0 && !process.HasExited)
        {
            throw new InvalidOperationException($"kill({process.Id}, SIGINT) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>A graceful stop for <paramref name="process"/>, as `docker stop` or systemd asks.</summary>
    public static void Terminate(Process process)
    {
        if (process.HasExited) return;
        if (Kill(process.Id, SigTerm) != 0 && !process.HasExited)
        {
            throw new InvalidOperationException($"kill({process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
