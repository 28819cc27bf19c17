using System.Collections.Concurrent;
using System.Diagnostics;

namespace Coordination.Compatibility.Tests.Fixtures;

/// <summary>
/// Every child process the suite starts is registered here, so that it is killed even when a test
/// run ends without disposing its fixtures (crash, Ctrl+C, SIGTERM of the test host).
/// </summary>
internal static class ProcessRegistry
{
    private static readonly ConcurrentDictionary<int, Process> Live = new();

    static ProcessRegistry()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        Console.CancelKeyPress += (_, _) => KillAll();
    }

    public static void Register(Process process) => Live[process.Id] = process;

    public static void Unregister(Process process)
    {
        try { Live.TryRemove(process.Id, out _); }
        catch (InvalidOperationException) { /* never started */ }
    }

    /// <summary>Kills one process (and its children) by id; never by name.</summary>
    public static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException) { /* already gone */ }
        catch (System.ComponentModel.Win32Exception) { /* already gone */ }
    }

    private static void KillAll()
    {
        foreach (var process in Live.Values)
        {
            Kill(process);
        }
    }
}
