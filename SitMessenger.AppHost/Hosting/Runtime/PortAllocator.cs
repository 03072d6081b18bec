using System.Net;
using System.Net.Sockets;

namespace SitMessenger.AppHost.Hosting;

internal static class PortAllocator
{
    /// <summary>A port free on loopback right now. Another process could still take it before we bind; unlikely on loopback.</summary>
    public static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
