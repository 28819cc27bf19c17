using System.Net;
using System.Net.Sockets;
using Coordination.Compatibility.Tests.Fixtures;
using Coordination.Testcontainers;

namespace Coordination.Compatibility.Tests;

/// <summary>
/// Servers that tests kill and restart keep their ports; a port in the ephemeral range can be taken
/// by any outgoing connection while its server is down. The picker stays out of that range.
/// </summary>
public sealed class FreePortsTests
{
    [Fact]
    public void Picked_ports_lie_outside_the_ephemeral_range_and_can_be_bound()
    {
        var (low, high) = LoopbackPorts.EphemeralRange();
        for (var i = 0; i < 50; i++)
        {
            var port = FreePorts.Next();
            Assert.True(port < low || port > high, $"port {port} lies in the ephemeral range {low}-{high}");
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
        }
    }
}
