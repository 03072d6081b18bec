using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The small server-rendered pages a service serves about the data it owns (what Flower showed), for the Aspire
/// dashboard to link to. No external assets: one inline style and one inline script, both pinned by hash in the page's
/// Content-Security-Policy, so text that slipped past the encoding still could not run.
/// </summary>
public static class OperatorPages
{
    /// <summary>The mark for an empty cell.</summary>
    public const string None = "<span class=\"none\">—</span>";

    /// <summary>Seconds between a page's reloads: it is a live view, and the page is cheap to render.</summary>
    public const int RefreshSeconds = 10;

    private const string Style = """
        body { font-family: system-ui, sans-serif; margin: 1.5rem 2rem; color: #1b1b1b; }
        h1 { margin-bottom: .2rem; } h2 { margin-top: 2rem; }
        .meta, .empty, .none { color: #666; } .unavailable { color: #c50f1f; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #ddd; font-size: 14px; vertical-align: top; }
        th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
        td.detail { max-width: 40rem; overflow-wrap: break-word; } code, time, button { white-space: nowrap; }
        .Succeeded { color: #107c10; } .Failed, .DeadLettered, .Requeued { color: #c50f1f; } .Retried { color: #bc4b09; }
        .Received, .Started { color: #555; }
        #status { min-height: 1.2rem; font-size: 14px; }
        button { font-size: 13px; margin-left: .5rem; }
        """;

    // The pages only show: their actions need the operator key (OperatorKey), and a page that could send it would have
    // to hold it, where any script or extension in the operator's browser could read it. The actions are the Aspire
    // dashboard's commands instead, behind the dashboard's own login. So the script only reloads the live view.
    private const string Script = """
        const refresh = Number(document.body.dataset.refresh);
        if (refresh > 0) setTimeout(() => location.reload(), refresh * 1000);
        """;

    /// <summary>What the page may do: its own style and script, and nothing else.</summary>
    public static string ContentSecurityPolicy { get; } =
        $"default-src 'none'; style-src '{Sha256(Style)}'; script-src '{Sha256(Script)}'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>A whole page around <paramref name="bodyHtml"/>, which the caller has built from encoded text only.</summary>
    public static string Document(string title, string bodyHtml) =>
        $"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{Encode(title)}</title><style>{Style}</style></head>
        <body data-refresh="{RefreshSeconds}">
        {bodyHtml}
        <script>{Script}</script>
        </body></html>
        """;

    /// <summary>Text for an element or a quoted attribute: &lt; &gt; &amp; " and ' all encoded.</summary>
    public static string Encode(string? text) => WebUtility.HtmlEncode(text ?? "");

    /// <summary>A UTC time, readable and machine-readable; "—" when there is none.</summary>
    public static string Time(DateTimeOffset? at) =>
        at is { } value
            ? $"<time datetime=\"{value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}\">{value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}Z</time>"
            : None;

    /// <summary>A time kept as text (a Redis field, an AMQP header): formatted if it parses, shown encoded as it is if not.</summary>
    public static string Time(string? at) =>
        string.IsNullOrEmpty(at) ? None
        : DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed) ? Time(parsed)
        : Encode(at);

    /// <summary>A cell's text, or <see cref="None"/>.</summary>
    public static string TextOrNone(string? text) => string.IsNullOrEmpty(text) ? None : Encode(text);

    /// <summary>A table cell around HTML the caller built from encoded text.</summary>
    public static string Cell(string contentHtml, string? cssClass = null) =>
        cssClass is null ? $"<td>{contentHtml}</td>" : $"<td class=\"{Encode(cssClass)}\">{contentHtml}</td>";

    public static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>The page as an answer, with headers that keep it from being framed, sniffed, cached or referred from.</summary>
    public static HtmlPage Page(string html) => new(html);

    private static string Sha256(string text) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>An operator page; see <see cref="OperatorPages.Page"/>.</summary>
public sealed class HtmlPage(string html) : IResult, IStatusCodeHttpResult, IContentTypeHttpResult, IEndpointMetadataProvider
{
    public const string HtmlContentType = "text/html; charset=utf-8";

    public string Html { get; } = html;

    public int? StatusCode => StatusCodes.Status200OK;

    public string? ContentType => HtmlContentType;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var headers = httpContext.Response.Headers;
        headers.ContentSecurityPolicy = OperatorPages.ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-store";
        headers["Referrer-Policy"] = "no-referrer";
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = HtmlContentType;
        return httpContext.Response.WriteAsync(Html, Encoding.UTF8, httpContext.RequestAborted);
    }

    public static void PopulateMetadata(System.Reflection.MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), [HtmlContentType]));
    }
}

/// <summary>The 401 body for an action without the operator key, in the services' <c>{"detail": ...}</c> shape.</summary>
public sealed record ActionRefused(string Detail);
