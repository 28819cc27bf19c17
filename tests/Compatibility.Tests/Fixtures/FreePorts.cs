using Coordination.Testcontainers;

namespace Coordination.Compatibility.Tests.Fixtures;

/// <summary>Free TCP ports for test servers, picked below the kernel's ephemeral range (see
/// <see cref="LoopbackPorts"/>), so that a server restarted on its port does not find it taken by an
/// outgoing connection. Another test can still pick the same port between the pick and the bind;
/// the process fixtures retry with new ports when a first start fails.</summary>
internal static class FreePorts
{
    public static int Next() => LoopbackPorts.Pick();
}
