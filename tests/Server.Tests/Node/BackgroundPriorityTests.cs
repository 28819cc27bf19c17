using System.Globalization;
using Coordination.Server.Node;

namespace Coordination.Server.Tests.Node;

/// <summary>The lowest scheduling priority for the thread that writes snapshot images.</summary>
public sealed class BackgroundPriorityTests
{
    [Fact]
    public void Only_the_calling_thread_drops_to_the_lowest_priority()
    {
        var before = NiceOfCurrentThread();
        var lowered = false;
        int? nice = null;
        var thread = new Thread(() =>
        {
            lowered = BackgroundPriority.TryLowerCurrentThread();
            nice = NiceOfCurrentThread();
        });
        thread.Start();
        thread.Join();

        if (OperatingSystem.IsLinux())
        {
            Assert.True(lowered);
            Assert.Equal(19, nice);
        }
        else
        {
            Assert.False(lowered);
        }
        Assert.Equal(before, NiceOfCurrentThread());
    }

    /// <summary>Field 19 of /proc/thread-self/stat (null where there is no such file).</summary>
    private static int? NiceOfCurrentThread()
    {
        if (!OperatingSystem.IsLinux()) return null;
        var stat = File.ReadAllText("/proc/thread-self/stat");
        // Fields after the command name, which is in parentheses and may hold spaces; the first is field 3.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[19 - 3], CultureInfo.InvariantCulture);
    }
}
