using Npgsql;

namespace SitMessenger.MigrationService.DjangoImport;

/// <summary>A row of the original's <c>messenger_customuser</c> (Django's AbstractUser with a uuid id).</summary>
internal sealed record DjangoUser(Guid Id, string Username, string Email, string PasswordHash, bool IsActive, DateTime DateJoined);

/// <summary>A row of <c>messenger_chatdata</c> with its <c>messenger_crypt</c> and owners.</summary>
/// <param name="MessageFile">The FileField's value: a path relative to MEDIA_ROOT, e.g. <c>message_storage/a-AND-b.txt</c>.</param>
/// <param name="Key">The Fernet key as stored (BinaryField: the ASCII base64url text), or null.</param>
internal sealed record DjangoChat(Guid Id, DateTime Created, DateTime Updated, string MessageFile, bool IsChatPassword, byte[]? Key, IReadOnlyList<Guid> Owners);

/// <summary>
/// Reads the original's database with the names its migrations gave the tables (messenger/migrations/0001_initial.py:
/// Django's <c>app_model</c> and <c>app_model_field</c> for many-to-many; the Crypt key column is <c>crypto_id</c>,
/// and so is ChatData's foreign key to it). Only SELECTs: the source is never changed.
/// </summary>
internal sealed class DjangoSource(NpgsqlDataSource source)
{
    public async Task<IReadOnlyList<DjangoUser>> UsersAsync(CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand(
            "SELECT id, username, email, password, is_active, date_joined FROM messenger_customuser ORDER BY date_joined, id");
        var users = new List<DjangoUser>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            users.Add(new DjangoUser(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetBoolean(4), reader.GetDateTime(5)));
        }

        return users;
    }

    /// <summary>The friends relation as Django stores a symmetrical many-to-many to self: one row per direction.</summary>
    public async Task<IReadOnlyList<(Guid User, Guid Friend)>> FriendshipsAsync(CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand(
            "SELECT from_customuser_id, to_customuser_id FROM messenger_customuser_friends ORDER BY id");
        var friendships = new List<(Guid, Guid)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            friendships.Add((reader.GetGuid(0), reader.GetGuid(1)));
        }

        return friendships;
    }

    public async Task<IReadOnlyList<DjangoChat>> ChatsAsync(CancellationToken cancellationToken)
    {
        var owners = new Dictionary<Guid, List<Guid>>();
        await using (var command = source.CreateCommand("SELECT chatdata_id, customuser_id FROM messenger_chatdata_owner ORDER BY id"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var chat = reader.GetGuid(0);
                if (!owners.TryGetValue(chat, out var members))
                {
                    owners[chat] = members = [];
                }

                members.Add(reader.GetGuid(1));
            }
        }

        var chats = new List<DjangoChat>();
        await using (var command = source.CreateCommand(
            """
            SELECT c.id, c.created, c.updated, c.message_file, k.is_chat_password, k.key
            FROM messenger_chatdata c JOIN messenger_crypt k ON k.crypto_id = c.crypto_id
            ORDER BY c.created, c.id
            """))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetGuid(0);
                chats.Add(new DjangoChat(
                    id,
                    reader.GetDateTime(1),
                    reader.GetDateTime(2),
                    reader.GetString(3),
                    reader.GetBoolean(4),
                    reader.IsDBNull(5) ? null : reader.GetFieldValue<byte[]>(5),
                    owners.TryGetValue(id, out var members) ? members : []));
            }
        }

        return chats;
    }
}
