using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Coordination.Raft.Tests;

/// <summary>
/// The consensus core must stay a pure state machine: no I/O, threads, tasks or clocks. This test
/// reads the compiled assembly's type references and fails on any from those areas.
/// </summary>
public class PurityTests
{
    private static readonly string[] ForbiddenNamespaces =
        ["System.IO", "System.Net", "System.Threading", "System.Threading.Tasks"];

    private static readonly string[] ForbiddenTypes =
        ["System.DateTime", "System.DateTimeOffset", "System.TimeProvider", "System.Environment", "System.Console", "System.GC",
         "System.Diagnostics.Stopwatch", "System.Diagnostics.Process", "System.Random.Shared"];

    internal static List<string> ImpureReferences(string assemblyPath)
    {
        using var stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var found = new List<string>();
        foreach (var handle in md.TypeReferences)
        {
            var type = md.GetTypeReference(handle);
            var ns = md.GetString(type.Namespace);
            var full = ns + "." + md.GetString(type.Name);
            if (ForbiddenNamespaces.Any(f => ns == f || ns.StartsWith(f + ".", StringComparison.Ordinal)) || ForbiddenTypes.Contains(full))
                found.Add(full);
        }
        return found;
    }

    [Fact]
    public void The_consensus_core_references_no_io_threads_tasks_or_clocks()
    {
        var impure = ImpureReferences(typeof(RaftNode).Assembly.Location);
        Assert.True(impure.Count == 0, "Coordination.Raft must stay pure, but references: " + string.Join(", ", impure));
    }

    [Fact]
    public void The_purity_check_flags_an_assembly_that_does_io_and_uses_tasks()
    {
        // Negative control: this test assembly uses files and tasks, so the check must flag it.
        var impure = ImpureReferences(typeof(PurityTests).Assembly.Location);
        Assert.Contains("System.IO.File", impure);
    }
}
