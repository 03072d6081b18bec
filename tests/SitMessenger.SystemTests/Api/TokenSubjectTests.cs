using System.Net;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.Api;

/// <summary>Tokens signed with the real key whose subject is no user: the Api's own key signed them, yet they must not pass.</summary>
[Collection(SystemCollection.Name)]
public sealed class TokenSubjectTests(SitMessengerAppFixture fixture)
{
    private const string TokenNotValid = """{"detail": "Given token not valid for any token type", "code": "token_not_valid"}""";

    [Theory]
    [InlineData("not-a-uuid")]
    [InlineData("random unknown uuid")]
    public async Task A_validly_signed_token_whose_subject_is_no_user_answers_401_not_500(string subject)
    {
        var api = new SitApiClient(fixture.Gateway);
        var owner = (await api.SharedUsersAsync())[0];
        var friend = (await api.SharedUsersAsync())[1];
        var key = HandMadeTokens.RealSigningKey(fixture.App.StateDirectory);
        var header = HandMadeTokens.Header(owner.Access);
        var claims = HandMadeTokens.Copy(HandMadeTokens.Payload(owner.Access));
        claims["sub"] = subject == "random unknown uuid" ? Guid.NewGuid().ToString() : subject;
        var token = HandMadeTokens.Encode(header, claims, key);

        var control = HandMadeTokens.Encode(header, HandMadeTokens.Payload(owner.Access), key);
        ApiAssert.Status(HttpStatusCode.OK, await api.GetAsync("/api/auth/users/me/", control));

        ApiAssert.Answer(HttpStatusCode.Unauthorized, TokenNotValid, await api.GetAsync("/api/auth/users/me/", token));
        ApiAssert.Answer(HttpStatusCode.Unauthorized, TokenNotValid, await api.PostAsync("/api/v1/chat/", new { owner = friend.Id }, token));
        ApiAssert.Answer(HttpStatusCode.Unauthorized, TokenNotValid, await api.PostAsync("/api/v1/friends/", new { users_uuid = friend.Id }, token));
        ApiAssert.Answer(HttpStatusCode.Unauthorized, TokenNotValid, await api.GetAsync("/api/v1/chat/", token));
    }
}
