using Microsoft.AspNetCore.Identity;
using SitMessenger.Api.Accounts;
using SitMessenger.Chat.Accounts;

namespace SitMessenger.UnitTests.Import;

public sealed class DjangoPasswordTests
{
    // base64(hashlib.pbkdf2_hmac('sha256', b'Lantern-old-P4ss', b'Wj8aQy3sGx1e', 216000)) by python3: Django 3.1's format.
    private const string DjangoHash = "pbkdf2_sha256$216000$Wj8aQy3sGx1e$w0KsRa+yrSeH4FbUKjLZ5eIidIQjEqpjp3q5kSjwTII=";

    private static readonly UserAccount Account = new(Guid.NewGuid(), "zbigniew", "");

    [Fact]
    public void A_django_pbkdf2_sha256_hash_verifies_its_password_only()
    {
        Assert.True(DjangoPasswordHash.Verify(DjangoHash, "Lantern-old-P4ss"));
        Assert.False(DjangoPasswordHash.Verify(DjangoHash, "Lantern-old-P4sS"));
    }

    [Theory]
    [InlineData("pbkdf2_sha256$216000$Wj8aQy3sGx1e")]
    [InlineData("pbkdf2_sha1$216000$Wj8aQy3sGx1e$w0KsRa+yrSeH4FbUKjLZ5eIidIQjEqpjp3q5kSjwTII=")]
    [InlineData("pbkdf2_sha256$0$Wj8aQy3sGx1e$w0KsRa+yrSeH4FbUKjLZ5eIidIQjEqpjp3q5kSjwTII=")]
    [InlineData("pbkdf2_sha256$99999999999$Wj8aQy3sGx1e$w0KsRa+yrSeH4FbUKjLZ5eIidIQjEqpjp3q5kSjwTII=")]
    [InlineData("pbkdf2_sha256$216000$Wj8aQy3sGx1e$not-base64")]
    [InlineData("pbkdf2_sha256$216000$$w0KsRa+yrSeH4FbUKjLZ5eIidIQjEqpjp3q5kSjwTII=")]
    public void A_malformed_django_hash_matches_no_password(string hash)
    {
        Assert.False(DjangoPasswordHash.Verify(hash, "Lantern-old-P4ss"));
        Assert.False(DjangoPasswordHash.IsWellFormed(hash));
    }

    [Fact]
    public void The_login_hasher_accepts_a_django_hash_and_asks_for_a_rehash_into_identitys_format()
    {
        var hasher = new DjangoCompatiblePasswordHasher();
        Assert.Equal(PasswordVerificationResult.SuccessRehashNeeded, hasher.VerifyHashedPassword(Account, DjangoHash, "Lantern-old-P4ss"));
        Assert.Equal(PasswordVerificationResult.Failed, hasher.VerifyHashedPassword(Account, DjangoHash, "wrong"));

        var rehashed = hasher.HashPassword(Account, "Lantern-old-P4ss");
        Assert.False(DjangoPasswordHash.IsDjangoHash(rehashed));
        Assert.Equal(PasswordVerificationResult.Success, hasher.VerifyHashedPassword(Account, rehashed, "Lantern-old-P4ss"));
    }

    [Theory]
    [InlineData("!" + DjangoHash)]
    [InlineData("!IJDoHAWQ6bbsR1rGL2ym7IrTxmeDNEQlb2YyV5Tb")]
    [InlineData("argon2$argon2id$v=19$m=102400,t=2,p=8$c29tZXNhbHQ$hash")]
    public void Unusable_and_unknown_django_hashes_let_no_one_in(string hash)
    {
        Assert.Equal(PasswordVerificationResult.Failed, new DjangoCompatiblePasswordHasher().VerifyHashedPassword(Account, hash, "Lantern-old-P4ss"));
    }
}
