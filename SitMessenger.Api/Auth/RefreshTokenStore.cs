using Npgsql;

namespace SitMessenger.Api.Auth;

/// <summary>
/// Refresh tokens as rows (by token id, never the token itself). Rotation revokes the used token and issues the
/// next one of the same family in one transaction; a revoked token presented again revokes its whole family.
/// </summary>
internal sealed class RefreshTokenStore(NpgsqlDataSource database, TokenService tokens, RevokedTokenFamilies families, TimeProvider time)
{
    public async Task<TokenPair> IssueAsync(Guid userId, string username, CancellationToken cancellationToken)
    {
        var familyId = Guid.CreateVersion7();
        var refresh = tokens.CreateRefreshToken(userId, familyId);
        await using var command = database.CreateCommand(
            "INSERT INTO refresh_tokens (id, family_id, user_id, expires) VALUES (@id, @family, @user, @expires)");
        command.Parameters.AddWithValue("id", refresh.Id);
        command.Parameters.AddWithValue("family", familyId);
        command.Parameters.AddWithValue("user", userId);
        command.Parameters.AddWithValue("expires", refresh.Expires);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return new TokenPair(tokens.CreateAccessToken(userId, username, familyId).Token, refresh.Token);
    }

    public async Task<RotationResult> RotateAsync(ValidatedToken presented, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await using var use = new NpgsqlCommand(
            """
            UPDATE refresh_tokens t SET revoked = @now
            FROM users u
            WHERE t.id = @id AND t.revoked IS NULL AND t.expires > @now AND u.id = t.user_id
            RETURNING u.username
            """, connection, transaction);
        use.Parameters.AddWithValue("id", presented.TokenId);
        use.Parameters.AddWithValue("now", time.GetUtcNow());
        if (await use.ExecuteScalarAsync(cancellationToken) is string username)
        {
            var next = tokens.CreateRefreshToken(presented.UserId, presented.FamilyId);
            await using var insert = new NpgsqlCommand(
                "INSERT INTO refresh_tokens (id, family_id, user_id, expires) VALUES (@id, @family, @user, @expires)", connection, transaction);
            insert.Parameters.AddWithValue("id", next.Id);
            insert.Parameters.AddWithValue("family", presented.FamilyId);
            insert.Parameters.AddWithValue("user", presented.UserId);
            insert.Parameters.AddWithValue("expires", next.Expires);
            await insert.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            var access = tokens.CreateAccessToken(presented.UserId, username, presented.FamilyId);
            return new RotationResult(RotationOutcome.Rotated, new TokenPair(access.Token, next.Token));
        }

        await using var lookup = new NpgsqlCommand("SELECT revoked IS NOT NULL FROM refresh_tokens WHERE id = @id", connection, transaction);
        lookup.Parameters.AddWithValue("id", presented.TokenId);
        if (await lookup.ExecuteScalarAsync(cancellationToken) is true)
        {
            // A used token came back: someone else holds a copy. Void the whole login, theirs and ours.
            await families.RevokeAsync(presented.FamilyId, connection, transaction, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            await families.PublishAsync(presented.FamilyId);
            return new RotationResult(RotationOutcome.Reused, null);
        }

        return new RotationResult(RotationOutcome.Unknown, null);
    }

    /// <summary>Logout: the login (token family) ends, refresh and access tokens alike. False if the token is unknown.</summary>
    public async Task<bool> RevokeFamilyAsync(ValidatedToken presented, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var lookup = new NpgsqlCommand("SELECT 1 FROM refresh_tokens WHERE id = @id AND user_id = @user", connection, transaction);
        lookup.Parameters.AddWithValue("id", presented.TokenId);
        lookup.Parameters.AddWithValue("user", presented.UserId);
        if (await lookup.ExecuteScalarAsync(cancellationToken) is null)
        {
            return false;
        }

        await families.RevokeAsync(presented.FamilyId, connection, transaction, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        await families.PublishAsync(presented.FamilyId);
        return true;
    }
}

internal sealed record TokenPair(string Access, string Refresh);

internal enum RotationOutcome
{
    Rotated,
    Reused,
    Unknown,
}

internal sealed record RotationResult(RotationOutcome Outcome, TokenPair? Tokens);
