using Microsoft.Extensions.Options;
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
    ChatSegmentCatalog catalog,
    ISegmentStore segments,
    IOptions<SegmentPolicy> policy,
    TimeProvider time,
    ILogger<SegmentCompaction> logger) : IJobHandler
{
    private const int MaxChatsPerRun = 200;

    public string JobType => JobTypes.CompactSegments;

    public async Task<string> RunAsync(JobEnvelope job, CancellationToken cancellationToken)
    {
        var settings = policy.Value;
        var chats = await catalog.ChatsWithSmallSegmentsAsync(settings.SmallSegmentMessages, settings.CompactAfterSmallSegments, MaxChatsPerRun, cancellationToken);
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
        var rows = await catalog.ForChatAsync(chatId, cancellationToken);
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

            var change = await catalog.ReplaceAsync(
                chatId, run, new NewSegment(run[0].FirstSeq, run[^1].LastSeq, location, run[0].KeyId, SegmentFormat.Hash(contents), time.GetUtcNow()), cancellationToken);
            if (change != SegmentChange.Recorded)
            {
                await segments.DeleteAsync(location, cancellationToken);
                if (change == SegmentChange.ChatDeleted)
                {
                    return merged;
                }

                // Another compaction got there first.
                continue;
            }

            merged += run.Count;
        }

        return merged;
    }

    /// <summary>Consecutive small segments with one key id, cut so that no merged segment exceeds the maximum size.</summary>
    private IEnumerable<List<SegmentRecord>> SmallRuns(IReadOnlyList<SegmentRecord> rows)
    {
        var settings = policy.Value;
        var run = new List<SegmentRecord>();
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
