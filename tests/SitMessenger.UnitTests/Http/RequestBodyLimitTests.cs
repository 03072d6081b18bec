using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SitMessenger.UnitTests.Http;

/// <summary>The body limit on a real Kestrel on loopback, spoken to over a raw socket to see the connection itself.</summary>
public sealed class RequestBodyLimitTests : IAsyncLifetime
{
    private const int Limit = 1024;
    private WebApplication? _app;
    private int _port;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.AddRequestBodyLimit(Limit);
        _app = builder.Build();
        _app.UseRequestBodyLimit();
        _app.MapPost("/echo-length", async (HttpRequest request) =>
        {
            try
            {
                using var buffer = new MemoryStream();
                await request.Body.CopyToAsync(buffer);
                return Results.Text(buffer.Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            catch (BadHttpRequestException error)
            {
                return Results.StatusCode(error.StatusCode);
            }
        });
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        _port = new Uri(address).Port;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_body_within_the_limit_is_read_whole()
    {
        using var connection = await ConnectAsync();
        await SendAsync(connection, ContentLengthRequest(Limit));
        var answer = await ReadResponseAsync(connection);
        Assert.StartsWith("HTTP/1.1 200", answer, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n" + Limit.ToString(System.Globalization.CultureInfo.InvariantCulture), answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_declared_length_over_the_limit_is_413_and_the_connection_survives_for_the_next_request()
    {
        using var connection = await ConnectAsync();

        // The whole oversize body is on the wire before the answer is read: what a proxy forwarding it does.
        await SendAsync(connection, ContentLengthRequest(200 * Limit));
        var rejected = await ReadResponseAsync(connection);
        Assert.StartsWith("HTTP/1.1 413", rejected, StringComparison.Ordinal);
        Assert.DoesNotContain("Connection: close", rejected, StringComparison.OrdinalIgnoreCase);

        // Kestrel drained the rest instead of resetting the connection: it serves the next request.
        await SendAsync(connection, ContentLengthRequest(10));
        Assert.StartsWith("HTTP/1.1 200", await ReadResponseAsync(connection), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_is_413()
    {
        using var connection = await ConnectAsync();
        var chunk = new string('c', Limit);
        var request = "POST /echo-length HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
            + $"{Limit:x}\r\n{chunk}\r\n{Limit:x}\r\n{chunk}\r\n0\r\n\r\n";
        await SendAsync(connection, request);
        Assert.StartsWith("HTTP/1.1 413", await ReadResponseAsync(connection), StringComparison.Ordinal);
    }

    private static string ContentLengthRequest(int bodyBytes) =>
        $"POST /echo-length HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: {bodyBytes}\r\n\r\n" + new string('b', bodyBytes);

    private async Task<TcpClient> ConnectAsync()
    {
        var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, _port);
        return client;
    }

    private static async Task SendAsync(TcpClient connection, string request) =>
        await connection.GetStream().WriteAsync(Encoding.ASCII.GetBytes(request));

    /// <summary>Reads one response: the head, then the body by its Content-Length.</summary>
    private static async Task<string> ReadResponseAsync(TcpClient connection)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var stream = connection.GetStream();
        var received = new StringBuilder();
        var buffer = new byte[4096];
        while (true)
        {
            var text = received.ToString();
            var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (headEnd >= 0)
            {
                var length = ContentLength(text[..headEnd]);
                if (text.Length >= headEnd + 4 + length)
                {
                    return text;
                }
            }

            var read = await stream.ReadAsync(buffer, timeout.Token);
            if (read == 0)
            {
                throw new IOException($"The server closed the connection after: {text}");
            }

            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
    }

    private static int ContentLength(string head)
    {
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                return int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
