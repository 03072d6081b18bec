using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using SitMessenger.Chat.Crypto;
using StackExchange.Redis;

namespace SitMessenger.Testing.Django;

/// <summary>A user of the original, with the password it hashed.</summary>
public sealed record DjangoAccount(Guid Id, string Username, string Email, string Password, bool IsActive = true);

/// <summary>
/// A chat of the original: what its file holds, and what still waited in its cache. <paramref name="FileName"/> is the
/// name under message_storage/ ('-AND-'.join(usernames) + '.txt' as the original named them).
/// </summary>
public sealed record DjangoChatData(Guid Id, DateTime Created, DateTime Updated, IReadOnlyList<Guid> Owners, IReadOnlyList<DjangoLine> FileLines, IReadOnlyList<DjangoLine> CachedLines, string FileName)
{
    public IEnumerable<DjangoLine> AllLines => FileLines.Concat(CachedLines);
}

/// <summary>
/// A Django installation of the original on a real PostgreSQL server and disk (and its Redis cache): the tables its
/// migrations create (messenger/migrations/0001_initial.py, only the columns the import and Django's constraints
/// need beside them), users with Django's pbkdf2_sha256 hashes, and one Fernet-encrypted Python-literal file per chat.
/// </summary>
public sealed class DjangoInstallation : IAsyncDisposable
{
    public const int DjangoIterations = 216_000;

    private readonly string _adminConnectionString;

    private DjangoInstallation(string adminConnectionString, string databaseName, string connectionString, string mediaRoot)
    {
        _adminConnectionString = adminConnectionString;
        DatabaseName = databaseName;
        ConnectionString = connectionString;
        MediaRoot = mediaRoot;
    }

    public string DatabaseName { get; }

    public string ConnectionString { get; }

    public string MediaRoot { get; }

    /// <summary>A new database (named django_…) on the server of <paramref name="serverConnectionString"/>, and an empty media folder.</summary>
    public static async Task<DjangoInstallation> CreateAsync(string serverConnectionString)
    {
        var admin = new NpgsqlConnectionStringBuilder(serverConnectionString) { Pooling = false }.ConnectionString;
        var name = $"django_{Guid.NewGuid():N}";
        await ExecuteAsync(admin, $"CREATE DATABASE \"{name}\"");
        var connectionString = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name, Pooling = false }.ConnectionString;
        await ExecuteAsync(connectionString, Schema);
        var media = Directory.CreateTempSubdirectory("sit-django-media-").FullName;
        Directory.CreateDirectory(Path.Combine(media, "message_storage"));
        return new DjangoInstallation(admin, name, connectionString, media);
    }

    /// <summary>Django's <c>make_password</c> with its pbkdf2_sha256 hasher: a 12-letter salt used as text.</summary>
    public static string DjangoHash(string password, int iterations = DjangoIterations)
    {
        var salt = RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 12);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(salt), iterations, HashAlgorithmName.SHA256, 32);
        return string.Create(CultureInfo.InvariantCulture, $"pbkdf2_sha256${iterations}${salt}${Convert.ToBase64String(hash)}");
    }

    public async Task AddUsersAsync(IReadOnlyList<DjangoAccount> accounts, IReadOnlyList<(Guid, Guid)> friendships, int iterations = DjangoIterations)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        var joined = DateTime.UtcNow.AddYears(-3);
        foreach (var (account, i) in accounts.Select((a, i) => (a, i)))
        {
            await using var insert = new NpgsqlCommand(
                """
                INSERT INTO messenger_customuser (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
                VALUES (@id, @password, false, @username, '', '', @email, false, @active, @joined)
                """, connection);
            insert.Parameters.AddWithValue("id", account.Id);
            insert.Parameters.AddWithValue("password", DjangoHash(account.Password, iterations));
            insert.Parameters.AddWithValue("username", account.Username);
            insert.Parameters.AddWithValue("email", account.Email);
            insert.Parameters.AddWithValue("active", account.IsActive);
            insert.Parameters.AddWithValue("joined", joined.AddMinutes(i));
            await insert.ExecuteNonQueryAsync();
        }

        // A symmetrical ManyToManyField("self") stores each friendship in both directions.
        foreach (var (a, b) in friendships)
        {
            await using var insert = new NpgsqlCommand(
                "INSERT INTO messenger_customuser_friends (from_customuser_id, to_customuser_id) VALUES (@a, @b), (@b, @a)", connection);
            insert.Parameters.AddWithValue("a", a);
            insert.Parameters.AddWithValue("b", b);
            await insert.ExecuteNonQueryAsync();
        }
    }

    /// <summary>
    /// Writes the chat as the original did: a Crypt row with a new Fernet key (its text as bytea), the file with one
    /// token over <c>str(message_data)</c>, the ChatData and owner rows; the cached lines pickled into Redis if any.
    /// Answers the file's path. <paramref name="key"/> overrides the key the file is encrypted with (a wrong key).
    /// </summary>
    public async Task<string> AddChatAsync(DjangoChatData chat, IDatabase? cache = null, string? keyInDatabase = null, NpgsqlConnection? connection = null)
    {
        var key = Fernet.GenerateKey();
        var token = Fernet.Encrypt(Fernet.ParseKey(key), Encoding.UTF8.GetBytes(PythonRepr.Messages(chat.FileLines)));
        var relative = "message_storage/" + chat.FileName;
        var path = Path.Combine(MediaRoot, relative);
        await File.WriteAllBytesAsync(path, token);

        var own = connection is null;
        connection ??= new NpgsqlConnection(ConnectionString);
        try
        {
            if (own)
            {
                await connection.OpenAsync();
            }

            var cryptoId = Guid.NewGuid();
            await using var insert = new NpgsqlCommand(
                """
                INSERT INTO messenger_crypt (crypto_id, code, is_chat_password, key) VALUES (@crypto, @code, false, @key);
                INSERT INTO messenger_chatdata (id, created, updated, message_file, crypto_id) VALUES (@id, @created, @updated, @file, @crypto);
                INSERT INTO messenger_chatdata_owner (chatdata_id, customuser_id) SELECT @id, unnest(@owners);
                """, connection);
            insert.Parameters.AddWithValue("crypto", cryptoId);
            insert.Parameters.AddWithValue("code", Guid.NewGuid());
            insert.Parameters.Add(new NpgsqlParameter("key", NpgsqlDbType.Bytea) { Value = Encoding.ASCII.GetBytes(keyInDatabase ?? key) });
            insert.Parameters.AddWithValue("id", chat.Id);
            insert.Parameters.AddWithValue("created", chat.Created);
            insert.Parameters.AddWithValue("updated", chat.Updated);
            insert.Parameters.AddWithValue("file", relative);
            insert.Parameters.AddWithValue("owners", chat.Owners.ToArray());
            await insert.ExecuteNonQueryAsync();
        }
        finally
        {
            if (own)
            {
                await connection.DisposeAsync();
            }
        }

        if (chat.CachedLines.Count > 0)
        {
            ArgumentNullException.ThrowIfNull(cache);
            await cache.StringSetAsync(CacheKey(chat.Id), DjangoPickle.Messages(chat.CachedLines));
        }

        return path;
    }

    /// <summary>Django's cache key through django-redis with the original's settings (no KEY_PREFIX, VERSION 1).</summary>
    public static string CacheKey(Guid chatId) => $":1:messages.{chatId:D}";

    /// <summary><c>datetime.now(pytz.utc).isoformat()</c> of a time: microseconds, left out when zero.</summary>
    public static string IsoFormat(DateTime utc) =>
        utc.Ticks % TimeSpan.TicksPerSecond / 10 == 0
            ? utc.ToString("yyyy-MM-dd'T'HH:mm:ss'+00:00'", CultureInfo.InvariantCulture)
            : utc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await ExecuteAsync(_adminConnectionString, $"DROP DATABASE IF EXISTS \"{DatabaseName}\" WITH (FORCE)");
        if (Directory.Exists(MediaRoot))
        {
            Directory.Delete(MediaRoot, recursive: true);
        }
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    // As Django 3.1's migrate created them for the messenger app on PostgreSQL (auth groups and permissions left out).
    private const string Schema = """
        CREATE TABLE messenger_customuser (
            password varchar(128) NOT NULL,
            last_login timestamptz NULL,
            is_superuser boolean NOT NULL,
            username varchar(150) NOT NULL UNIQUE,
            first_name varchar(30) NOT NULL,
            last_name varchar(150) NOT NULL,
            email varchar(254) NOT NULL,
            is_staff boolean NOT NULL,
            is_active boolean NOT NULL,
            date_joined timestamptz NOT NULL,
            id uuid NOT NULL PRIMARY KEY);
        CREATE TABLE messenger_customuser_friends (
            id serial NOT NULL PRIMARY KEY,
            from_customuser_id uuid NOT NULL REFERENCES messenger_customuser (id) DEFERRABLE INITIALLY DEFERRED,
            to_customuser_id uuid NOT NULL REFERENCES messenger_customuser (id) DEFERRABLE INITIALLY DEFERRED,
            UNIQUE (from_customuser_id, to_customuser_id));
        CREATE TABLE messenger_crypt (
            crypto_id uuid NOT NULL PRIMARY KEY,
            code uuid NOT NULL,
            is_chat_password boolean NOT NULL,
            key bytea NULL);
        CREATE TABLE messenger_chatdata (
            id uuid NOT NULL PRIMARY KEY,
            created timestamptz NOT NULL,
            updated timestamptz NOT NULL,
            message_file varchar(100) NOT NULL,
            crypto_id uuid NOT NULL REFERENCES messenger_crypt (crypto_id) DEFERRABLE INITIALLY DEFERRED);
        CREATE TABLE messenger_chatdata_owner (
            id serial NOT NULL PRIMARY KEY,
            chatdata_id uuid NOT NULL REFERENCES messenger_chatdata (id) DEFERRABLE INITIALLY DEFERRED,
            customuser_id uuid NOT NULL REFERENCES messenger_customuser (id) DEFERRABLE INITIALLY DEFERRED,
            UNIQUE (chatdata_id, customuser_id));
        """;
}
