using SitMessenger.Chat.Accounts;

namespace SitMessenger.UnitTests.Accounts;

public sealed class UsernameSkeletonTests
{
    [Theory]
    [InlineData("Alice")]
    [InlineData("ALICE")]
    [InlineData("\u0430lice")] // Cyrillic small a
    [InlineData("\u0410LICE")] // Cyrillic capital A
    [InlineData("\u0391LICE")] // Greek capital alpha
    [InlineData("al\u0456ce")] // Cyrillic small byelorussian-ukrainian i
    [InlineData("\uFF41\uFF4C\uFF49\uFF43\uFF45")] // full-width, folded by NFKC
    [InlineData("a1ice")]
    [InlineData("aIice")] // capital I for l
    [InlineData("\u0430\u04CF\u0456\u0441\u0435")] // every letter Cyrillic
    public void Look_alikes_of_alice_share_its_skeleton(string lookAlike) =>
        Assert.Equal(UsernameSkeleton.Of("alice"), UsernameSkeleton.Of(lookAlike));

    [Theory]
    [InlineData("0scar", "oscar")]
    [InlineData("\u041E\u0421\u0422\u041E", "octo")] // Cyrillic capitals
    [InlineData("\u0397\u0395\u039A\u03A4\u039F\u03A1", "hektop")] // Greek capitals
    [InlineData("caf\u00E9", "cafe\u0301")] // composed and decomposed é
    [InlineData("\u2460bob", "1bob")] // circled digit one, folded by NFKC
    [InlineData("\uFB01sh", "fish")] // the fi ligature, folded by NFKC
    [InlineData("a\u0323\u0307", "a\u0307\u0323")] // the same marks in either order (canonical ordering)
    [InlineData("\u1EA1\u0307", "a\u0307\u0323")] // precomposed ạ plus a dot above
    public void Names_that_look_the_same_share_a_skeleton(string one, string other) =>
        Assert.Equal(UsernameSkeleton.Of(one), UsernameSkeleton.Of(other));

    [Theory]
    [InlineData("alice", "bob")]
    [InlineData("alice", "alicé")]
    [InlineData("alice", "alice2")]
    [InlineData("sit.user", "sit_user")]
    [InlineData("\u0431ob", "bob")] // Cyrillic be looks like no Latin letter
    public void Names_that_look_different_keep_different_skeletons(string one, string other) =>
        Assert.NotEqual(UsernameSkeleton.Of(one), UsernameSkeleton.Of(other));

    [Fact]
    public void A_skeleton_is_its_own_skeleton()
    {
        foreach (var name in new[] { "Alice", "\u0410LICE", "0scar", "caf\u00E9", "\u0397\u0395\u039A\u03A4\u039F\u03A1" })
        {
            var skeleton = UsernameSkeleton.Of(name);
            Assert.Equal(skeleton, UsernameSkeleton.Of(skeleton));
        }
    }
}
