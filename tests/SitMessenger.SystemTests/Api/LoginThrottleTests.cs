using System.Globalization;
using System.Net;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Api;

[Collection(SystemCollection.Name)]
public sealed class LoginThrottleTests(SitMessengerAppFixture fixture)
{
    [Fact]
    public async Task Five_failed_logins_throttle_that_username_with_429_and_retry_after_even_for_the_right_password()
    {
        var client = new SitApiClient(fixture.Gateway);
        var username = SitApiClient.UniqueUsername("throttled");
        var password = SitApiClient.StrongPassword();
        ApiAssert.Status(HttpStatusCode.Created, await client.PostAsync("/api/auth/users/", new { username, password }));

        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var wrong = await client.PostAsync("/api/auth/jwt/create/", new { username, password = "Wrong-" + attempt + "-password" });
            ApiAssert.Status(HttpStatusCode.Unauthorized, wrong);
        }

        var throttled = await client.PostAsync("/api/auth/jwt/create/", new { username, password });
        ApiAssert.Status(HttpStatusCode.TooManyRequests, throttled);
        var retryAfter = int.Parse(throttled.Header("Retry-After")!, CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 15 * 60);
        Assert.StartsWith("Request was throttled.", throttled.Body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // Only that username is held back: another account logs in at once.
        var shared = (await client.SharedUsersAsync())[0];
        ApiAssert.Status(HttpStatusCode.OK, await client.PostAsync("/api/auth/jwt/create/", new { username = shared.Username, password = shared.Password }));
    }
}
