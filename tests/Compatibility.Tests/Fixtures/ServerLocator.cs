using System.Reflection;

namespace Coordination.Compatibility.Tests.Fixtures;

/// <summary>
/// Finds <c>Coordination.Server.dll</c>. The test project references the server, so a build copies
/// it (with its runtimeconfig) next to the test assembly, both in the default layout and with
/// <c>--artifacts-path</c>. Failing that, walks up to the repository root and looks in the
/// server's own <c>bin/&lt;Configuration&gt;/net10.0/</c> or <c>artifacts/bin/Coordination.Server/&lt;config&gt;/</c>.
/// <c>COORDINATION_SERVER_DLL</c> overrides everything.
/// </summary>
internal static class ServerLocator
{
    public const string DllName = "Coordination.Server.dll";

    public static string FindServerDll()
    {
        var candidates = Candidates().ToList();
        foreach (var candidate in candidates)
        {
            if (File.Exists(candidate) && File.Exists(Path.ChangeExtension(candidate, ".runtimeconfig.json")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(
            $"{DllName} (with its runtimeconfig.json) not found. Looked in:\n  " + string.Join("\n  ", candidates));
    }

    private static IEnumerable<string> Candidates()
    {
        if (Environment.GetEnvironmentVariable("COORDINATION_SERVER_DLL") is { Length: > 0 } overridden)
        {
            yield return overridden;
        }

        yield return Path.Combine(AppContext.BaseDirectory, DllName);

        var configuration = typeof(ServerLocator).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Coordination.sln")))
            {
                yield return Path.Combine(dir.FullName, "src", "Server", "Coordination.Server", "bin", configuration, "net10.0", DllName);
                yield return Path.Combine(dir.FullName, "artifacts", "bin", "Coordination.Server", configuration.ToLowerInvariant(), DllName);
                yield break;
            }

            // --artifacts-path layout: <artifacts>/bin/Compatibility.Tests/<config>/ → <artifacts>/bin/Coordination.Server/<config>/
            if (dir.Name == "bin" && dir.Parent is not null)
            {
                yield return Path.Combine(dir.FullName, "Coordination.Server", configuration.ToLowerInvariant(), DllName);
            }
        }
    }
}
