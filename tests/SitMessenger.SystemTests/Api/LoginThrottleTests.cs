using System.Globalization;
using System.Net;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Api;

/// <summary>
/// The login throttle, from several client addresses (127.0.0.x through the Gateway). Each test uses addresses of its
/// own, since the per-address counts last beyond one test.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class LoginThrottleTests(SitMessengerAppFixture fixture)
{
    private const string Login = "/api/auth/jwt/create/";

    [Fact]
    public async Task Five_wrong_passwords_from_a_stranger_do_not_stop_the_owner()
    {
        using var ownerHttp = LoopbackClients.From(LoopbackClients.Address(2), fixture.App.GetEndpoint("gateway"));
        using var strangerHttp = LoopbackClients.From(LoopbackClients.Address(3), fixture.App.GetEndpoint("gateway"));
        using var travellerHttp = LoopbackClients.From(LoopbackClients.Address(4), fixture.App.GetEndpoint("gateway"));
        var owner = new SitApiClient(ownerHttp);
        var stranger = new SitApiClient(strangerHttp);
        var username = SitApiClient.UniqueUsername("throttled");
        var password = SitApiClient.StrongPassword();
        ApiAssert.Status(HttpStatusCode.Created, await owner.PostAsync("/api/auth/users/", new { username, password }));

        for (var attempt = 1; attempt <= 5; attempt++)
        {
            ApiAssert.Status(HttpStatusCode.Unauthorized, await stranger.PostAsync(Login, new { username, password = "Wrong-" + attempt + "-password" }));
        }

        // The stranger's address is held back for that username, even with the right password...
        var throttled = await stranger.PostAsync(Login, new { username, password });
        ApiAssert.Status(HttpStatusCode.TooManyRequests, throttled);
        var retryAfter = int.Parse(throttled.Header("Retry-After")!, CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 15 * 60);
        Assert.StartsWith("Request was throttled.", throttled.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // ...and so is the same name in another case, which names the same account's counters.
        ApiAssert.Status(HttpStatusCode.TooManyRequests, await stranger.PostAsync(Login, new { username = username.ToUpperInvariant(), password }));

        // The owner is not: from their own address, nor from any other address without failures.
        ApiAssert.Status(HttpStatusCode.OK, await owner.PostAsync(Login, new { username, password }));
        ApiAssert.Status(HttpStatusCode.OK, await new SitApiClient(travellerHttp).PostAsync(Login, new { username, password }));

        // And the stranger may still log in to another account from that address.
        var shared = (await new SitApiClient(fixture.Gateway).SharedUsersAsync())[0];
        ApiAssert.Status(HttpStatusCode.OK, await stranger.PostAsync(Login, new { username = shared.Username, password = shared.Password }));
    }

    [Fact]
    public async Task Strangers_who_spend_a_usernames_hourly_budget_from_many_addresses_are_refused_but_the_owner_from_their_address_logs_in()
    {
        var gateway = fixture.App.GetEndpoint("gateway");
        using var ownerHttp = LoopbackClients.From(LoopbackClients.Address(10), gateway);
        using var latecomerHttp = LoopbackClients.From(LoopbackClients.Address(40), gateway);
        var owner = new SitApiClient(ownerHttp);
        var username = SitApiClient.UniqueUsername("budget");
        var password = SitApiClient.StrongPassword();
        ApiAssert.Status(HttpStatusCode.Created, await owner.PostAsync("/api/auth/users/", new { username, password }));

        // 20 addresses × 5 failures each (their pair limit) = the default budget of 100 failures an hour.
        await Task.WhenAll(Enumerable.Range(11, 20).Select(async lastByte =>
        {
            using var http = LoopbackClients.From(LoopbackClients.Address(lastByte), gateway);
            var stranger = new SitApiClient(http);
            for (var attempt = 1; attempt <= 5; attempt++)
            {
                ApiAssert.Status(HttpStatusCode.Unauthorized, await stranger.PostAsync(Login, new { username, password = $"Wrong-{lastByte}-{attempt}" }));
            }
        }));

        // A new address gets no more guesses at that username this hour, whatever it sends: the bound holds.
        var latecomer = new SitApiClient(latecomerHttp);
        var refused = await latecomer.PostAsync(Login, new { username, password = "Another-wrong-guess" });
        ApiAssert.Status(HttpStatusCode.TooManyRequests, refused);
        Assert.InRange(int.Parse(refused.Header("Retry-After")!, CultureInfo.InvariantCulture), 1, 3600);
        ApiAssert.Status(HttpStatusCode.TooManyRequests, await latecomer.PostAsync(Login, new { username, password }));

        // The owner, from the address they registered from, is not stopped by any of it.
        ApiAssert.Status(HttpStatusCode.OK, await owner.PostAsync(Login, new { username, password }));
    }
}
