using System.Net;
using System.Net.Sockets;

namespace Coordination.Compatibility.Tests.Fixtures;

/// <summary>Free loopback TCP ports, found by binding port 0. A race with another process is
/// possible; the process fixtures retry with new ports when a start fails.</summary>
internal static class FreePorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
