using Npgsql;
using SitMessenger.Chat.Messaging;
using SitMessenger.Worker.Jobs;

namespace SitMessenger.Worker.Maintenance;

/// <summary>
/// Deletes refresh tokens past their expiry, family revocations older than any token they could void, and client
/// message ids (Idempotency-Key) past the time a retry of theirs is promised to be recognised.
/// </summary>
internal sealed class ExpiredTokenCleanup(NpgsqlDataSource database, TimeProvider time) : IJobHandler
{
    // Longer than any access or refresh token lives: a revocation must outlast what it revokes.
    private static readonly TimeSpan RevocationRetention = TimeSpan.FromDays(2);

    // The API promises 24 h; two days leave a retry from a client whose clock or queue lagged a day room to spare.
    private static readonly TimeSpan ClientMessageIdRetention = TimeSpan.FromDays(2);

    public string JobType => JobTypes.DeleteExpiredTokens;

    public async Task<string> RunAsync(JobEnvelope job, CancellationToken cancellationToken)
    {
        await using var batch = database.CreateBatch();
        var now = time.GetUtcNow();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM refresh_tokens WHERE expires < $1") { Parameters = { new() { Value = now } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM revoked_token_families WHERE revoked < $1")
        {
            Parameters = { new() { Value = now - RevocationRetention } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM message_idempotency WHERE created < $1")
        {
            Parameters = { new() { Value = now - ClientMessageIdRetention } },
        });
        await batch.ExecuteNonQueryAsync(cancellationToken);
        return $"deleted {batch.BatchCommands[0].RecordsAffected} expired refresh tokens, {batch.BatchCommands[1].RecordsAffected} old revocations, "
            + $"{batch.BatchCommands[2].RecordsAffected} old client message ids";
    }
}
