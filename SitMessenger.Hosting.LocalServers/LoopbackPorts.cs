using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace SitMessenger.Hosting.LocalServers;

/// <summary>
/// Ports for servers that listen on loopback without DCP's proxy in front: every query of every service would otherwise
/// cross one more userspace hop. Chosen when the model is built, so restarts of a server keep its port.
/// </summary>
public static class LoopbackPorts
{
    // Below Linux's ephemeral range (32768-60999): outgoing connections made between allocation and bind
    // (health probes, clients) cannot take a port handed out here.
    private const int First = 20000;
    private const int Last = 32000;
    private static readonly HashSet<int> HandedOut = [];
    private static readonly Lock Gate = new();

    /// <summary>A loopback port free right now and not handed out before by this process.</summary>
    public static int GetFreePort()
    {
        lock (Gate)
        {
            for (var attempt = 0; attempt < 1000; attempt++)
            {
                var port = RandomNumberGenerator.GetInt32(First, Last);
                if (!HandedOut.Contains(port) && IsFree(port))
                {
                    HandedOut.Add(port);
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"No free loopback port between {First} and {Last}.");
    }

    /// <summary>The port itself, or a free one for 0.</summary>
    public static int OrFree(int port) => port == 0 ? GetFreePort() : port;

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
