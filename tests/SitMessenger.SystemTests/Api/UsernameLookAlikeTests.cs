using System.Net;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Api;

[Collection(SystemCollection.Name)]
public sealed class UsernameLookAlikeTests(SitMessengerAppFixture fixture)
{
    private const string Taken = """{"username": ["A user with that username already exists."]}""";

    [Fact]
    public async Task A_name_that_differs_only_by_case_width_or_look_alike_letters_is_taken()
    {
        var api = new SitApiClient(fixture.Gateway);
        // Letters only after the prefix, so the look-alikes below change exactly one thing each.
        var suffix = new string([.. Guid.NewGuid().ToString("N").Select(c => (char)('a' + (c % 26)))]);
        var original = "look_alice_" + suffix;
        var password = SitApiClient.StrongPassword();
        ApiAssert.Status(HttpStatusCode.Created, await api.RegisterAsync(original, password));

        foreach (var lookAlike in new[]
        {
            "Look_Alice_" + suffix,
            ("look_alice_" + suffix).ToUpperInvariant(),
            "look_\u0430lice_" + suffix, // Cyrillic а
            "\uFF4Cook_alice_" + suffix, // full-width ｌ
            "l0ok_al1ce_" + suffix,
        })
        {
            ApiAssert.Answer(HttpStatusCode.BadRequest, Taken, await api.RegisterAsync(lookAlike, SitApiClient.StrongPassword()));
        }

        // Nothing was created by the refusals, and the owner logs in by the exact name as before.
        var users = await api.UsersAsync((await api.SharedUsersAsync())[0]);
        Assert.Single(users.Values, name => name.EndsWith(suffix, StringComparison.Ordinal));
        ApiAssert.Status(HttpStatusCode.OK, await api.LoginAsync(original, password));

        // A name that only shares a prefix is not a look-alike.
        ApiAssert.Status(HttpStatusCode.Created, await api.RegisterAsync("look_bob_" + suffix, SitApiClient.StrongPassword()));
    }
}
