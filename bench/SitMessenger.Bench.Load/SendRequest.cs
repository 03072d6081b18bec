using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace SitMessenger.Bench.Load;

/// <summary>
/// One send into one chat as one user, prepared once (path, token, body bytes) and sent many times; or, through
/// <see cref="Me"/>, the small authenticated GET the Gateway's overhead is measured with.
/// </summary>
internal sealed class SendRequest
{
    private readonly HttpMethod _method;
    private readonly Uri _path;
    private readonly AuthenticationHeaderValue _authorization;
    private readonly byte[]? _body;

    public SendRequest(SendMode mode, string chatId, string accessToken, string message)
    {
        var chat = Uri.EscapeDataString(chatId);
        (_method, _path, _body) = mode switch
        {
            SendMode.Post => (HttpMethod.Post, new Uri($"api/v1/chat/{chat}/messages/", UriKind.Relative), Json.Object(("message", message))),
            SendMode.Patch => (HttpMethod.Patch, new Uri($"api/v1/chat/{chat}/", UriKind.Relative), Json.Object(("new_message", message))),
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
        _authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        Description = $"{_method} /{_path}";
    }

    private SendRequest(Uri path, string accessToken, string description)
    {
        (_method, _path, _body) = (HttpMethod.Get, path, null);
        _authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        Description = description;
    }

    /// <summary>
    /// <c>GET /api/v1/users/me/</c> as the token's user: through the client's base address (the Gateway), or to
    /// <paramref name="server"/> (an Api replica's own address) when given.
    /// </summary>
    public static SendRequest Me(string accessToken, Uri? server = null)
    {
        const string Path = "api/v1/users/me/";
        return server is null
            ? new SendRequest(new Uri(Path, UriKind.Relative), accessToken, $"GET /{Path}")
            : new SendRequest(new Uri(server, Path), accessToken, $"GET {new Uri(server, Path)}");
    }

    public string Description { get; }

    /// <summary>
    /// Sends and reads the whole answer. Success is any 2xx; otherwise the status and the start of the body. With
    /// <paramref name="readSeq"/> (POST only) a success also carries the message's seq from the answer.
    /// </summary>
    public async Task<SendOutcome> SendAsync(HttpClient http, CancellationToken cancellationToken, bool readSeq = false)
    {
        using var request = new HttpRequestMessage(_method, _path);
        request.Headers.Authorization = _authorization;
        if (_body is not null)
        {
            var content = new ByteArrayContent(_body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Content = content;
        }

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return readSeq ? await SeqOutcomeAsync(response, cancellationToken) : SendOutcome.Success;
        }

        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return new SendOutcome(false, response.StatusCode, Json.Shorten(body));
    }

    private static async Task<SendOutcome> SeqOutcomeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("seq", out var seq) && seq.TryGetInt64(out var value) && value > 0)
            {
                return SendOutcome.Success with { Seq = value };
            }
        }
        catch (JsonException)
        {
        }

        return new SendOutcome(false, response.StatusCode, Json.Shorten(System.Text.Encoding.UTF8.GetString(bytes)))
        {
            KeyOverride = string.Create(CultureInfo.InvariantCulture, $"{(int)response.StatusCode} without a seq"),
        };
    }
}

internal readonly record struct SendOutcome(bool Succeeded, HttpStatusCode Status, string? Body)
{
    public static readonly SendOutcome Success = new(true, HttpStatusCode.OK, null);

    /// <summary>The sent message's sequence number in its chat, when asked for (0 otherwise).</summary>
    public long Seq { get; init; }

    /// <summary>What the error tally counts it under: the status ("404 NotFound"), or a transport failure's kind.</summary>
    public string? KeyOverride { get; init; }

    public string Key => KeyOverride ?? string.Create(CultureInfo.InvariantCulture, $"{(int)Status} {Status}");
}
