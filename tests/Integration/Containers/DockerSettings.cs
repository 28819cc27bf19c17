using System.Runtime.CompilerServices;

namespace Coordination.Integration.Tests.Containers;

/// <summary>
/// Settings Testcontainers needs on these machines, applied before it reads them, so a plain
/// <c>dotnet test</c> works: Debian's Docker 20.10 speaks API 1.41 at most, no registry is reachable
/// for the Ryuk reaper image (test.sh removes leftovers by label instead), and the host is loopback.
/// </summary>
internal static class DockerSettings
{
    [ModuleInitializer]
    internal static void Apply()
    {
        SetIfUnset("DOCKER_API_VERSION", "1.41");
        SetIfUnset("TESTCONTAINERS_RYUK_DISABLED", "true");
        SetIfUnset("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1");
    }

    private static void SetIfUnset(string name, string value)
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) Environment.SetEnvironmentVariable(name, value);
    }
}
