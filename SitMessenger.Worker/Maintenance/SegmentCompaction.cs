using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using SitMessenger.Chat.Messages;
using SitMessenger.Chat.Messaging;
using SitMessenger.Chat.Storage;
using SitMessenger.Worker.Flushing;
using SitMessenger.Worker.Jobs;

namespace SitMessenger.Worker.Maintenance;

/// <summary>
/// Merges runs of small consecutive segments of a chat into one, so a chat that is written a little at a time is
/// still read in few files. Each source is verified against its recorded hash first; a corrupt one stops the merge
/// of its chat and is reported. The old files stay until the orphan sweep's grace period has passed.
/// </summary>
internal sealed partial class SegmentCompaction(
    NpgsqlDataSource database,
    ISegmentStore segments,
    IOptions<SegmentPolicy> policy,
    TimeProvider time,
    ILogger<SegmentCompaction> logger) : IJobHandler
{
    private const int MaxChatsPerRun = 200;

    public string JobType => JobTypes.CompactSegments;

    private sealed record SegmentRow(Guid Id, long FirstSeq, long LastSeq, string Location, string KeyId, byte[] Sha256)
    {
        public long Count => LastSeq - FirstSeq + 1;
    }

    public async Task<string> RunAsync(JobEnvelope job, CancellationToken cancellationToken)
    {
        var settings = policy.Value;
        var chats = new List<Guid>();
        await using (var command = database.CreateCommand(
            """
            SELECT chat_id FROM chat_segments WHERE last_seq - first_seq + 1 < $1
            GROUP BY chat_id HAVING count(*) >= $2 LIMIT $3
            """))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = (long)settings.SmallSegmentMessages });
            command.Parameters.Add(new NpgsqlParameter { Value = (long)settings.CompactAfterSmallSegments });
            command.Parameters.Add(new NpgsqlParameter { Value = MaxChatsPerRun });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                chats.Add(reader.GetGuid(0));
            }
        }

        var merged = 0;
        var failed = new List<string>();
        foreach (var chatId in chats)
        {
            try
            {
                merged += await CompactChatAsync(chatId, cancellationToken);
            }
            catch (CorruptSegmentException ex)
            {
                LogCorrupt(logger, chatId, ex.Location ?? "(unknown)", ex);
                failed.Add($"{chatId}: {ex.Message}");
            }
        }

        if (failed.Count > 0)
        {
            throw new InvalidOperationException($"corrupt segments found ({string.Join("; ", failed)}); restore them from backup");
        }

        return $"merged {merged} small segments in {chats.Count} chats";
    }

    private async Task<int> CompactChatAsync(Guid chatId, CancellationToken cancellationToken)
    {
        var rows = new List<SegmentRow>();
        await using (var command = database.CreateCommand(
            "SELECT id, first_seq, last_seq, location, key_id, sha256 FROM chat_segments WHERE chat_id = $1 ORDER BY first_seq"))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = chatId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new SegmentRow(reader.GetGuid(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetString(3), reader.GetString(4), reader.GetFieldValue<byte[]>(5)));
            }
        }

        var merged = 0;
        foreach (var run in SmallRuns(rows))
        {
            var messages = new List<EncryptedMessage>();
            foreach (var row in run)
            {
                var file = await segments.ReadAsync(row.Location, cancellationToken);
                messages.AddRange(SegmentFormat.Read(file, chatId, row.Sha256, row.Location).Messages);
            }

            var contents = SegmentFormat.Write(chatId, run[0].KeyId, messages);
            var location = await segments.WriteAsync(chatId, run[0].FirstSeq, run[^1].LastSeq, contents, cancellationToken);

            await using var connection = await database.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var replace = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("DELETE FROM chat_segments WHERE id = ANY($1)") { Parameters = { new() { Value = run.Select(r => r.Id).ToArray() } } },
                    new NpgsqlBatchCommand(
                        "INSERT INTO chat_segments (id, chat_id, first_seq, last_seq, location, key_id, sha256, created) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                    {
                        Parameters =
                        {
                            new() { Value = Guid.CreateVersion7() }, new() { Value = chatId }, new() { Value = run[0].FirstSeq }, new() { Value = run[^1].LastSeq },
                            new() { Value = location }, new() { Value = run[0].KeyId }, new() { Value = SegmentFormat.Hash(contents), NpgsqlDbType = NpgsqlDbType.Bytea },
                            new() { Value = time.GetUtcNow() },
                        },
                    },
                },
            };
            try
            {
                await replace.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                await transaction.RollbackAsync(cancellationToken);
                await segments.DeleteAsync(location, cancellationToken);
                return merged;
            }

            if (replace.BatchCommands[0].RecordsAffected != run.Count)
            {
                // Another compaction got there first.
                await transaction.RollbackAsync(cancellationToken);
                await segments.DeleteAsync(location, cancellationToken);
                continue;
            }

            await transaction.CommitAsync(cancellationToken);
            merged += run.Count;
        }

        return merged;
    }

    /// <summary>Consecutive small segments with one key id, cut so that no merged segment exceeds the maximum size.</summary>
    private IEnumerable<List<SegmentRow>> SmallRuns(List<SegmentRow> rows)
    {
        var settings = policy.Value;
        var run = new List<SegmentRow>();
        foreach (var row in rows)
        {
            var fits = run.Count == 0
                || (row.FirstSeq == run[^1].LastSeq + 1 && row.KeyId == run[0].KeyId && run.Sum(r => r.Count) + row.Count <= settings.MaxMessagesPerSegment);
            if (row.Count >= settings.SmallSegmentMessages || !fits)
            {
                if (run.Count > 1)
                {
                    yield return run;
                }

                run = [];
            }

            if (row.Count < settings.SmallSegmentMessages)
            {
                run.Add(row);
            }
        }

        if (run.Count > 1)
        {
            yield return run;
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Chat {ChatId}: segment {Location} is corrupt; it was not compacted. Restore it from backup")]
    private static partial void LogCorrupt(ILogger logger, Guid chatId, string location, Exception exception);
}
