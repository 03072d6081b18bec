using System.Diagnostics;
using Npgsql;

namespace SitMessenger.Bench.Load;

/// <summary>
/// Reads the message path's progress straight from PostgreSQL: pending rows, messages held by segments, the chats'
/// flushed marks. Each read also gives the moment it was taken: the <see cref="Stopwatch"/> timestamp just before the
/// query was sent, which is when (within a fraction of a millisecond) the statement's snapshot is taken.
/// </summary>
internal sealed class FlushProbe(string connectionString) : IAsyncDisposable
{
    private readonly NpgsqlDataSource _source = NpgsqlDataSource.Create(connectionString);

    /// <summary>One chat's pending rows and the messages its segments hold.</summary>
    public async Task<(long At, long Pending, long Segmented)> CountsAsync(Guid chat, CancellationToken cancellationToken)
    {
        await using var command = _source.CreateCommand(
            "SELECT (SELECT count(*) FROM pending_messages WHERE chat_id = $1), " +
            "(SELECT coalesce(sum(last_seq - first_seq + 1), 0) FROM chat_segments WHERE chat_id = $1)::bigint");
        command.Parameters.Add(new NpgsqlParameter { Value = chat });
        var at = Stopwatch.GetTimestamp();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (at, reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>Pending rows of the given chats together.</summary>
    public async Task<long> PendingAsync(IReadOnlyCollection<Guid> chats, CancellationToken cancellationToken)
    {
        await using var command = _source.CreateCommand("SELECT count(*) FROM pending_messages WHERE chat_id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = chats.ToArray() });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Each chat's flushed mark (highest seq moved into segments), by chat id.</summary>
    public async Task<(long At, Dictionary<Guid, long> Flushed)> FlushedAsync(Guid[] chats, CancellationToken cancellationToken)
    {
        await using var command = _source.CreateCommand("SELECT id, flushed_seq FROM chats WHERE id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter { Value = chats });
        var at = Stopwatch.GetTimestamp();
        var flushed = new Dictionary<Guid, long>(chats.Length);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            flushed[reader.GetGuid(0)] = reader.GetInt64(1);
        }

        return (at, flushed);
    }

    /// <summary>
    /// Waits (polling every 500 ms, a progress line every 5 s) until the chats have no pending rows; false when
    /// <paramref name="budget"/> ran out first.
    /// </summary>
    public async Task<(bool Drained, TimeSpan Waited, long Pending)> WaitForNoPendingAsync(
        IReadOnlyCollection<Guid> chats, string what, TimeSpan budget, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var lastReport = start;
        while (true)
        {
            var pending = await PendingAsync(chats, cancellationToken);
            var waited = Stopwatch.GetElapsedTime(start);
            if (pending == 0 || waited >= budget)
            {
                return (pending == 0, waited, pending);
            }

            if (Stopwatch.GetElapsedTime(lastReport) >= TimeSpan.FromSeconds(5))
            {
                lastReport = Stopwatch.GetTimestamp();
                Progress.Write(FormattableString.Invariant($"{what}: {pending:N0} messages still pending after {waited.TotalSeconds:0} s"));
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        }
    }

    public ValueTask DisposeAsync() => _source.DisposeAsync();
}
