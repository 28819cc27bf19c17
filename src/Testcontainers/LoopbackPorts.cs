using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Coordination.Testcontainers;

/// <summary>
/// Host ports for servers that stop and start again on the same port. A port picked by binding
/// port 0 lies in the kernel's ephemeral range, which is also where outgoing connections get their
/// local ports: while its server is stopped, any connection the machine opens can take it, and the
/// restart fails with "address already in use". These ports are picked below that range instead,
/// where only an explicit bind can land, and are checked free (on every address) when picked.
/// </summary>
internal static class LoopbackPorts
{
    private const int Lowest = 10000;
    private const int Attempts = 200;
    private const string RangeFile = "/proc/sys/net/ipv4/ip_local_port_range";

    /// <summary>A port that is free now and outside the ephemeral range when that range leaves room.</summary>
    public static int Pick()
    {
        var (ephemeralLow, ephemeralHigh) = EphemeralRange();
        var (from, to) = ephemeralLow - Lowest >= 1000 ? (Lowest, ephemeralLow) : (ephemeralHigh + 1, 65536);
        if (to - from >= 1000)
        {
            for (var attempt = 0; attempt < Attempts; attempt++)
            {
                var port = Random.Shared.Next(from, to);
                if (IsFree(port)) return port;
            }
        }

        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The kernel's ephemeral port range; Linux's default when it cannot be read.</summary>
    internal static (int Low, int High) EphemeralRange()
    {
        try
        {
            var parts = File.ReadAllText(RangeFile).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2
                && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var low)
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var high)
                && low <= high)
            {
                return (low, high);
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return (32768, 60999);
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Any, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
