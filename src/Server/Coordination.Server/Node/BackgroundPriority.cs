using System.Runtime.InteropServices;

namespace Coordination.Server.Node;

/// <summary>
/// Lowers the calling thread's scheduling priority on Linux (nice 19, the lowest) so that bulk
/// background work, such as writing a snapshot image, takes only the CPU that request handling
/// leaves idle. .NET's <see cref="Thread.Priority"/> does not change the scheduler's priority on
/// Linux, hence <c>setpriority(2)</c> on the thread's own id. Elsewhere, or if the call fails, the
/// thread keeps its priority; nothing depends on it but latency.
/// </summary>
internal static class BackgroundPriority
{
    private const int PriorityProcess = 0; // PRIO_PROCESS: with a thread id, that one thread
    private const int Lowest = 19;

    /// <summary>Lowers the calling thread's priority; false when it could not.</summary>
    public static bool TryLowerCurrentThread()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return NativeMethods.setpriority(PriorityProcess, NativeMethods.gettid(), Lowest) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int setpriority(int which, int who, int prio);

        [DllImport("libc")]
        public static extern int gettid();
    }
}
