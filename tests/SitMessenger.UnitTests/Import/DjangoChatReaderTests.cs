using System.Text;
using SitMessenger.Chat.Crypto;
using SitMessenger.MigrationService.DjangoImport;

namespace SitMessenger.UnitTests.Import;

public sealed class DjangoChatReaderTests : IDisposable
{
    // Made by python3's cryptography 48: Fernet(Key).encrypt(str(d).encode()) of PythonLiteralTests' dict, the third
    // message's sender being 'Zbigniew'.
    private const string Key = "cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=";
    private const string TokenFromPython = "gAAAAABrEShBx1yaUWeQoe_UkUyhbs-95bayOXKib8dM-77JtvYB0gyznC3Ib0KOIX4h-lgXE3tTlUJRxn_xh_vdNT309HjzTNuZDKM-p_VaeHw2znEUnTmwiu2BTkeXGqT8yWAuJlFhHr4wIv0VgJt-g6lGBKa90fjmphbNLtIY8NFs0Y1nInvGSPk58U8XNaAgWQWmEuOK_BT7T-OUNd2QM10tfw34G4V2PlhSzcVhF_PmQI9idUanu-p57hoZVKNqhJM4uUtARvBiXazayVl1cqkZFhoClWmM2dIycFcJRupGbgJ05p39E4j_OBdcJdNua7xFVEPNuw68BmDJXapvRLlNGf-Q3WVMTnFfjVBhUWl8zg_jzXqLyMDI-x_oTvae19JhBe-HGAbx7u5bp1H4F9NI8Oo3Ik_UI_WDYl9hhCHPvSCRsrv4xG9W0ppdZC4w1WIuQzzEgBy-yTnILwY81RqQcX8_H1V-6-v5cVDgI8cHJMM5VO4=";

    private readonly DirectoryInfo _media = Directory.CreateTempSubdirectory("sit-django-media-");

    public void Dispose() => _media.Delete(recursive: true);

    private DjangoChat Chat(string file, string content, string key = Key, bool password = false)
    {
        Directory.CreateDirectory(Path.Combine(_media.FullName, "message_storage"));
        File.WriteAllText(Path.Combine(_media.FullName, "message_storage", file), content);
        return new DjangoChat(Guid.NewGuid(), DateTime.UtcNow, DateTime.UtcNow, "message_storage/" + file, password, Encoding.ASCII.GetBytes(key), [Guid.NewGuid()]);
    }

    [Fact]
    public async Task A_chat_file_encrypted_by_pythons_fernet_reads_back_every_message_exactly()
    {
        var content = await new DjangoChatReader(_media.FullName, cache: null).ReadAsync(Chat("root-AND-Zbigniew.txt", TokenFromPython), CancellationToken.None);
        Assert.Equal(PythonLiteralTests.Expected.Select((m, i) => i == 2 ? m with { User = "Zbigniew" } : m), content.Messages);
        Assert.Equal(TokenFromPython.Length, content.FileBytes);
    }

    [Fact]
    public async Task A_wrong_key_is_told_apart_from_a_corrupt_token()
    {
        var reader = new DjangoChatReader(_media.FullName, cache: null);
        var wrongKey = await Assert.ThrowsAsync<ChatSkippedException>(() => reader.ReadAsync(Chat("a.txt", TokenFromPython, Fernet.GenerateKey()), CancellationToken.None));
        Assert.Equal(SkipKind.WrongKey, wrongKey.Kind);

        var corrupt = await Assert.ThrowsAsync<ChatSkippedException>(() => reader.ReadAsync(Chat("b.txt", TokenFromPython[..100] + "!!" + TokenFromPython[102..]), CancellationToken.None));
        Assert.Equal(SkipKind.CorruptToken, corrupt.Kind);
        Assert.True(corrupt.IsError);
    }

    [Fact]
    public async Task A_missing_file_is_an_unreadable_file_naming_its_path()
    {
        var chat = Chat("c.txt", TokenFromPython) with { MessageFile = "message_storage/gone.txt" };
        var error = await Assert.ThrowsAsync<ChatSkippedException>(() => new DjangoChatReader(_media.FullName, cache: null).ReadAsync(chat, CancellationToken.None));
        Assert.Equal(SkipKind.UnreadableFile, error.Kind);
        Assert.Contains("gone.txt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_password_chat_its_key_does_not_open_is_skipped_without_being_an_error()
    {
        var error = await Assert.ThrowsAsync<ChatSkippedException>(() =>
            new DjangoChatReader(_media.FullName, cache: null).ReadAsync(Chat("d.txt", TokenFromPython, Fernet.GenerateKey(), password: true), CancellationToken.None));
        Assert.Equal(SkipKind.PasswordChat, error.Kind);
        Assert.False(error.IsError);
    }
}
