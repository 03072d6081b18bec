using System.Buffers.Text;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using SitMessenger.Gateway.Extensions;

namespace SitMessenger.UnitTests.Gateway;

/// <summary>The Gateway's chained limiter, asked the way the rate-limiting middleware asks it, one request at a time.</summary>
public sealed class GatewayRateLimitTests
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private static RateLimitOptions Options(int perAddress = 1000, int perUser = 1000, int auth = 1000, int sends = 1000) => new()
    {
        PerAddress = new() { PermitLimit = perAddress, Window = Minute },
        PerUser = new() { PermitLimit = perUser, Window = Minute },
        Auth = new() { PermitLimit = auth, Window = Minute },
        Sends = new() { PermitLimit = sends, Window = Minute },
    };

    [Fact]
    public void A_user_is_held_to_the_per_user_limit_from_any_address_while_others_are_not()
    {
        using var limiter = RateLimitExtensions.CreateLimiter(Options(perUser: 3));

        Assert.True(Admitted(limiter, Get("/api/v1/users/", "10.0.0.1", TokenFor("alice"))));
        Assert.True(Admitted(limiter, Get("/api/v1/users/", "10.0.0.2", TokenFor("alice"))));
        Assert.True(Admitted(limiter, Get("/api/v1/chat/", "10.0.0.3", TokenFor("alice"))));
        Assert.False(Admitted(limiter, Get("/api/v1/chat/", "10.0.0.4", TokenFor("alice"))));

        Assert.True(Admitted(limiter, Get("/api/v1/chat/", "10.0.0.4", TokenFor("bob"))));
        Assert.True(Admitted(limiter, Get("/api/v1/ping/", "10.0.0.4", token: null)));
    }

    [Fact]
    public void Sends_are_counted_per_user_and_reads_are_not_sends()
    {
        using var limiter = RateLimitExtensions.CreateLimiter(Options(sends: 2));
        var chat = "/api/v1/chat/0199c3e4-52a1-7d33-b1f3-3a9a5e0b8f10/";

        Assert.True(Admitted(limiter, Request("PATCH", chat, "10.0.0.1", TokenFor("alice"))));
        Assert.True(Admitted(limiter, Request("POST", chat + "messages/", "10.0.0.2", TokenFor("alice"))));
        Assert.False(Admitted(limiter, Request("PATCH", chat, "10.0.0.3", TokenFor("alice"))));

        Assert.True(Admitted(limiter, Get(chat, "10.0.0.1", TokenFor("alice"))));
        Assert.True(Admitted(limiter, Request("PATCH", chat, "10.0.0.1", TokenFor("bob"))));
    }

    [Fact]
    public void Login_calls_are_limited_per_address_and_other_routes_are_not_held_back()
    {
        using var limiter = RateLimitExtensions.CreateLimiter(Options(auth: 2));

        Assert.True(Admitted(limiter, Request("POST", "/api/auth/jwt/create/", "10.0.0.1", token: null)));
        Assert.True(Admitted(limiter, Request("POST", "/api/auth/users/", "10.0.0.1", token: null)));
        Assert.False(Admitted(limiter, Request("POST", "/api/auth/jwt/create/", "10.0.0.1", token: null)));

        Assert.True(Admitted(limiter, Request("POST", "/api/auth/jwt/create/", "10.0.0.2", token: null)));
        Assert.True(Admitted(limiter, Get("/api/v1/users/", "10.0.0.1", TokenFor("alice"))));
    }

    [Fact]
    public void A_token_that_is_not_a_jwt_gets_no_user_bucket_and_the_address_limit_still_holds()
    {
        using var limiter = RateLimitExtensions.CreateLimiter(Options(perAddress: 2, perUser: 1));

        Assert.True(Admitted(limiter, Get("/api/v1/users/", "10.0.0.1", "not.a-token")));
        Assert.True(Admitted(limiter, Get("/api/v1/users/", "10.0.0.1", "garbage")));
        Assert.False(Admitted(limiter, Get("/api/v1/users/", "10.0.0.1", "garbage")));
    }

    private static bool Admitted(System.Threading.RateLimiting.PartitionedRateLimiter<HttpContext> limiter, HttpContext request)
    {
        using var lease = limiter.AttemptAcquire(request);
        return lease.IsAcquired;
    }

    private static HttpContext Get(string path, string address, string? token) => Request("GET", path, address, token);

    private static HttpContext Request(string method, string path, string address, string? token)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Connection.RemoteIpAddress = IPAddress.Parse(address);
        if (token is not null)
        {
            context.Request.Headers.Authorization = "Bearer " + token;
        }

        return context;
    }

    /// <summary>A token shaped like the Api's, with a signature nobody checks here: the Gateway reads only its subject.</summary>
    private static string TokenFor(string subject) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes("""{"alg":"HS256","typ":"JWT"}"""))
        + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes($$"""{"sub":"{{subject}}"}"""))
        + ".c2lnbmF0dXJl";
}
