using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace SitMessenger.Api.Chats;

/// <summary>How many of each chat's latest messages an Api instance keeps decrypted in memory, for how many chats.</summary>
internal sealed class RecentMessagesOptions
{
    public const string SectionName = "RecentMessages";

    /// <summary>Messages kept per chat: the window GET and PATCH answer with by default.</summary>
    public int MessagesPerChat { get; set; } = Apis.ChatsApi.DefaultWindow;

    /// <summary>Characters of message text kept per chat at most; a chat of long messages keeps fewer of them.</summary>
    public int CharactersPerChat { get; set; } = 40_000;

    /// <summary>Chats kept at most (the least recently used go first).</summary>
    public int Chats { get; set; } = 1_000;

    /// <summary>A chat nobody reads or writes for this long is forgotten.</summary>
    public TimeSpan Idle { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// The latest messages of recently used chats, decrypted, in memory only (never written anywhere), so that a send
/// answered with the chat's latest 100 messages decrypts one message instead of a hundred. Messages never change once
/// stored, so a window is never stale, only short: it holds a run of consecutive sequence numbers, and a reader asks
/// it for the run it needs (up to the chat's last seq as PostgreSQL just said) and reads only what is missing, which
/// also covers messages sent through other Api replicas.
/// </summary>
internal sealed class RecentMessages : IDisposable
{
    private readonly MemoryCache _windows;
    private readonly RecentMessagesOptions _options;
    private readonly MemoryCacheEntryOptions _entry;

    public RecentMessages(IOptions<RecentMessagesOptions> options)
    {
        _options = options.Value;
        _windows = new MemoryCache(new MemoryCacheOptions { SizeLimit = _options.Chats });
        _entry = new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = _options.Idle };
    }

    /// <summary>
    /// The messages with from &lt; seq &lt;= to that the chat's window holds, as one run (possibly empty), and the
    /// ranges it lacks: before the run, after it, or the whole range.
    /// </summary>
    public WindowRead Read(Guid chatId, long from, long to)
    {
        if (to <= from || !_windows.TryGetValue(chatId, out Window? window) || window is null)
        {
            return new WindowRead([], from, to, to, to);
        }

        lock (window)
        {
            var first = window.FirstSeq;
            var last = window.LastSeq;
            var start = Math.Max(from + 1, first);
            var end = Math.Min(to, last);
            if (window.Messages.Count == 0 || start > end)
            {
                return new WindowRead([], from, to, to, to);
            }

            var run = window.Messages.GetRange((int)(start - first), (int)(end - start + 1));
            // Missing before the run: from..start-1; after it: end..to.
            return new WindowRead(run, from, start - 1, end, to);
        }
    }

    /// <summary>
    /// Adds consecutive messages of a chat. A run that touches or overlaps the window joins it; one past a gap
    /// replaces it (the newest messages are the ones asked for); one before it is dropped.
    /// </summary>
    public void Add(Guid chatId, IReadOnlyList<SentMessage> run)
    {
        if (run.Count == 0)
        {
            return;
        }

        var window = _windows.GetOrCreate(chatId, _ => new Window(), _entry)!;
        lock (window)
        {
            window.Add(run, _options);
        }
    }

    /// <summary>Adds a message just sent if it is the next one the chat's window lacks; otherwise the next read fills in.</summary>
    public void AddIfNext(Guid chatId, SentMessage message)
    {
        if (_windows.TryGetValue(chatId, out Window? window) && window is not null)
        {
            lock (window)
            {
                if (window.Messages.Count > 0 && window.LastSeq == message.Seq - 1)
                {
                    window.Add([message], _options);
                }
            }
        }
    }

    public void Forget(Guid chatId) => _windows.Remove(chatId);

    public void Dispose() => _windows.Dispose();

    private sealed class Window
    {
        private long _characters;

        public List<SentMessage> Messages { get; } = [];

        public long FirstSeq => Messages.Count == 0 ? 0 : Messages[0].Seq;

        public long LastSeq => Messages.Count == 0 ? 0 : Messages[^1].Seq;

        public void Add(IReadOnlyList<SentMessage> run, RecentMessagesOptions limits)
        {
            var runFirst = run[0].Seq;
            var runLast = run[^1].Seq;
            if (Messages.Count > 0 && runLast < FirstSeq - 1)
            {
                return;
            }

            if (Messages.Count == 0 || runFirst > LastSeq + 1)
            {
                Messages.Clear();
                _characters = 0;
                Append(run, 0);
            }
            else
            {
                if (runFirst < FirstSeq)
                {
                    var before = run.Take((int)(FirstSeq - runFirst)).ToList();
                    Messages.InsertRange(0, before);
                    _characters += before.Sum(m => (long)m.Message.Length);
                }

                if (runLast > LastSeq)
                {
                    Append(run, (int)(LastSeq + 1 - runFirst));
                }
            }

            // Keep the newest: drop from the front down to the limits.
            var drop = 0;
            while (Messages.Count - drop > 1
                && (Messages.Count - drop > limits.MessagesPerChat || _characters > limits.CharactersPerChat))
            {
                _characters -= Messages[drop].Message.Length;
                drop++;
            }

            Messages.RemoveRange(0, drop);
        }

        private void Append(IReadOnlyList<SentMessage> run, int from)
        {
            for (var i = from; i < run.Count; i++)
            {
                Messages.Add(run[i]);
                _characters += run[i].Message.Length;
            }
        }
    }
}

/// <summary>
/// What a window held of a range: <see cref="Run"/> (consecutive), and the ranges it lacks, as (after, to] pairs:
/// before the run (<see cref="MissingBeforeFrom"/>, <see cref="MissingBeforeTo"/>] and after it
/// (<see cref="MissingAfterFrom"/>, <see cref="MissingAfterTo"/>]; empty when after == to.
/// </summary>
internal sealed record WindowRead(
    IReadOnlyList<SentMessage> Run, long MissingBeforeFrom, long MissingBeforeTo, long MissingAfterFrom, long MissingAfterTo);
