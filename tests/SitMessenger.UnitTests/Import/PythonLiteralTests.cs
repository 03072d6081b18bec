using SitMessenger.Chat.Messages;
using SitMessenger.MigrationService.DjangoImport;

namespace SitMessenger.UnitTests.Import;

public sealed class PythonLiteralTests
{
    // Printed by python3: str({'messages': [...]}) with an apostrophe and double quotes (repr picks '...' and escapes
    // the apostrophe), a backslash, a newline, a tab, a control character, a zero-width space, Polish letters and an emoji.
    private const string ReprFromPython =
        """{'messages': [{'datetime': '2021-03-20T06:49:51.123456+00:00', 'user': '', 'message': 'Beginning of messages'}, {'datetime': '2021-03-20T06:50:00+00:00', 'user': 'root', 'message': 'it\'s "quoted"'}, {'datetime': '2021-03-20T06:50:01.5+00:00', 'user': 'root', 'message': 'zółć \\ \n\t\x07 \u200b 😀'}]}""";

    public static readonly ChatMessage[] Expected =
    [
        new(new DateTime(2021, 3, 20, 6, 49, 51, 123, 456, DateTimeKind.Utc), "", "Beginning of messages"),
        new(new DateTime(2021, 3, 20, 6, 50, 0, DateTimeKind.Utc), "root", "it's \"quoted\""),
        new(new DateTime(2021, 3, 20, 6, 50, 1, 500, DateTimeKind.Utc), "root", "zółć \\ \n\t\a \u200b 😀"),
    ];

    [Fact]
    public void A_chat_file_literal_written_by_python_reads_back_with_quotes_escapes_and_non_ascii_exact()
    {
        Assert.Equal(Expected, DjangoMessages.From(PythonLiteral.Parse(ReprFromPython)));
    }

    [Fact]
    public void A_str_in_double_quotes_with_apostrophes_reads_as_python_wrote_it()
    {
        // repr("it's") is "it's"; repr('both \' and "') is 'both \' and "'.
        Assert.Equal(new List<object> { "it's", "both ' and \"", "\\n is not a newline" }, PythonLiteral.Parse("""["it's", 'both \' and "', '\\n is not a newline']"""));
    }

    [Theory]
    [InlineData(@"'\x41\u0142\U0001F600\101'", "Ał😀A")]
    [InlineData(@"'a\tb\rc'", "a\tb\rc")]
    [InlineData("''", "")]
    public void Escapes_python_writes_are_decoded(string literal, string expected)
    {
        Assert.Equal(expected, PythonLiteral.Parse(literal));
    }

    [Theory]
    [InlineData("__import__('os').system('echo hi')")]
    [InlineData("{'messages': [1]}")]
    [InlineData("{'messages': None}")]
    [InlineData("{'messages': []} trailing")]
    [InlineData("{'messages': ['unterminated]}")]
    [InlineData(@"'\q'")]
    [InlineData("'a\nb'")]
    [InlineData("{'a': 'x', 'a': 'y'}")]
    [InlineData("{1: 'x'}")]
    public void Anything_but_dicts_lists_and_str_is_refused_and_nothing_is_evaluated(string literal)
    {
        Assert.Throws<FormatException>(() => PythonLiteral.Parse(literal));
    }

    [Fact]
    public void A_refusal_says_where_but_never_quotes_the_text()
    {
        var error = Assert.Throws<FormatException>(() => PythonLiteral.Parse("{'messages': [{'message': 'secret text' + x}]}"));
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
        Assert.Contains("character", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{'messages': [{'datetime': 'yesterday', 'user': 'a', 'message': 'b'}]}")]
    [InlineData("{'messages': [{'datetime': '2021-03-20T06:50:00+00:00', 'user': 'a'}]}")]
    [InlineData("{'messages': [{'datetime': '2021-03-20T06:50:00+00:00', 'user': 'a', 'message': 'b', 'extra': 'c'}]}")]
    [InlineData("{'other': []}")]
    public void Messages_not_in_the_originals_shape_are_refused(string literal)
    {
        Assert.Throws<FormatException>(() => DjangoMessages.From(PythonLiteral.Parse(literal)));
    }
}
