using System.Net;
using System.Net.Sockets;

namespace SitMessenger.SystemTests.Infrastructure;

/// <summary>
/// HTTP clients that come from a chosen loopback address (127.0.0.2, 127.0.0.3, ...), so that one machine can play
/// several clients: every 127.0.0.0/8 address is the loopback interface's, and the server sees the one bound here.
/// </summary>
public static class LoopbackClients
{
    public static IPAddress Address(int lastByte) => new([127, 0, 0, checked((byte)lastByte)]);

    /// <summary>A client of <paramref name="target"/> whose connections leave from <paramref name="source"/>.</summary>
    public static HttpClient From(IPAddress source, Uri target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var handler = new SocketsHttpHandler
        {
            // The target's host may be "localhost", which can resolve to ::1: connect to 127.0.0.1 so the IPv4 source binds.
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = target, Timeout = TimeSpan.FromSeconds(30) };
    }
}
