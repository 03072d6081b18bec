using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SitMessenger.UnitTests.Operator;

/// <summary>The shared page shell, and the action guard on a real Kestrel on loopback.</summary>
public sealed partial class OperatorPagesTests : IAsyncLifetime
{
    private const string Key = "k3y-of-the-operator";

    private WebApplication? _app;
    private HttpClient? _client;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.Configure<OperatorOptions>(options => options.Key = Key);
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapGet("/page", () => OperatorPages.Page(OperatorPages.Document("a page", "<p>body</p>")));
        _app.MapPost("/action", () => TypedResults.Ok("done")).RequireOperatorKey();
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        _client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer not-the-key")]
    [InlineData("Bearer " + Key + "x")]
    [InlineData("Basic " + Key)]
    public async Task An_action_without_the_operator_key_is_refused_with_401_and_a_detail(string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/action", UriKind.Relative));
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await _client!.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"detail\":", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_action_with_the_operator_key_runs_as_the_apphost_command_sends_it()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/action", UriKind.Relative));
        request.Headers.Authorization = new("Bearer", Key);
        using var response = await _client!.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void Without_a_configured_key_every_action_is_refused()
    {
        Assert.Equal(OperatorKey.NotConfiguredDetail, OperatorKey.Check("Bearer ", null));
        Assert.Equal(OperatorKey.NotConfiguredDetail, OperatorKey.Check("Bearer anything", ""));
    }

    [Fact]
    public async Task A_page_is_served_as_html_that_cannot_be_framed_sniffed_or_cached()
    {
        using var response = await _client!.GetAsync(new Uri("/page", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(OperatorPages.ContentSecurityPolicy, Assert.Single(response.Headers.GetValues("Content-Security-Policy")));
        Assert.Contains("frame-ancestors 'none'", OperatorPages.ContentSecurityPolicy, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.Contains("<p>body</p>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_policy_allows_exactly_the_pages_own_inline_style_and_script_so_a_browser_runs_them()
    {
        var html = OperatorPages.Document("t", "");

        var script = InlineScript().Match(html).Groups[1].Value;
        var style = InlineStyle().Match(html).Groups[1].Value;

        // The pages only show: nothing in them calls an action.
        Assert.DoesNotContain("fetch(", script, StringComparison.Ordinal);
        Assert.Contains($"script-src '{Sha256(script)}'", OperatorPages.ContentSecurityPolicy, StringComparison.Ordinal);
        Assert.Contains($"style-src '{Sha256(style)}'", OperatorPages.ContentSecurityPolicy, StringComparison.Ordinal);
    }

    [Fact]
    public void The_page_title_is_html_encoded()
    {
        Assert.Contains("<title>a &lt;b&gt;</title>", OperatorPages.Document("a <b>", ""), StringComparison.Ordinal);
    }

    private static string Sha256(string text) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [GeneratedRegex("<script>(.*?)</script>", RegexOptions.Singleline)]
    private static partial Regex InlineScript();

    [GeneratedRegex("<style>(.*?)</style>", RegexOptions.Singleline)]
    private static partial Regex InlineStyle();
}
