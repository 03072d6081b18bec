using System.Globalization;
using System.Net;
using System.Text;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Api;

/// <summary>
/// Which client address the Api counts: a client that reaches an Api port directly must not name its own with
/// X-Forwarded-For, while the Gateway's word still carries each client's real address. Seen through the per-address
/// attempt limit, which counts by the address the Api believes.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ForwardedAddressTests(SitMessengerAppFixture fixture)
{
    private const string Register = "/api/auth/users/";

    [Fact]
    public async Task A_client_reaching_the_Api_directly_cannot_escape_the_per_address_limit_with_a_forged_X_Forwarded_For()
    {
        var source = LoopbackClients.Address(77);
        using var directHttp = LoopbackClients.From(source, fixture.App.GetEndpoint("api"));
        var direct = new SitApiClient(directHttp);

        // Each attempt claims another address; an empty registration is refused (400) but counted, without hashing.
        var limit = SitMessengerAppFixture.LoginAttemptsPerAddress;
        var answers = new List<HttpStatusCode>();
        for (var batch = 0; batch < limit; batch += 10)
        {
            answers.AddRange(await Task.WhenAll(Enumerable.Range(batch, Math.Min(10, limit - batch))
                .Select(async i => (await EmptyRegistrationAsync(direct, Forged(i))).Status)));
        }

        Assert.All(answers, status => Assert.Equal(HttpStatusCode.BadRequest, status));
        ApiAssert.Status(HttpStatusCode.TooManyRequests, await EmptyRegistrationAsync(direct, Forged(limit)));
        // Nor does guessing at the Gateway's proof help.
        ApiAssert.Status(HttpStatusCode.TooManyRequests, await EmptyRegistrationAsync(direct, Forged(limit + 1), ("X-Sit-Gateway-Key", "guessed")));

        // Through the Gateway the Api sees each client's own address: the same one is over its limit, another is not.
        using var sameViaGatewayHttp = LoopbackClients.From(source, fixture.App.GetEndpoint("gateway"));
        using var otherViaGatewayHttp = LoopbackClients.From(LoopbackClients.Address(78), fixture.App.GetEndpoint("gateway"));
        ApiAssert.Status(HttpStatusCode.TooManyRequests, await EmptyRegistrationAsync(new SitApiClient(sameViaGatewayHttp), Forged(limit + 2)));
        ApiAssert.Status(HttpStatusCode.BadRequest, await EmptyRegistrationAsync(new SitApiClient(otherViaGatewayHttp), ("X-Forwarded-For", source.ToString())));
    }

    private static (string, string) Forged(int i) =>
        ("X-Forwarded-For", string.Create(CultureInfo.InvariantCulture, $"198.18.{i / 250}.{(i % 250) + 1}"));

    private static Task<ApiResponse> EmptyRegistrationAsync(SitApiClient client, params (string Name, string Value)[] headers) =>
        client.SendRawAsync(HttpMethod.Post, Register, new StringContent("{}", Encoding.UTF8, "application/json"), authorization: null,
            headers.Select(header => KeyValuePair.Create(header.Name, header.Value)));
}
