using System.Diagnostics;
using System.Globalization;

namespace SitMessenger.MigrationService.DjangoImport;

/// <summary>
/// Counts of the chat phase, shared by the parallel importers, and the progress line printed every couple of seconds:
/// chats done of all (a bar), messages, and the rates so far (messages/s, MB/s of chat files read).
/// </summary>
internal sealed class ImportProgress(int totalChats, TextWriter output) : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stop = new();
    private Task _printer = Task.CompletedTask;
    private long _chatsImported, _chatsAlreadyThere, _chatsSkipped, _messages, _messagesFromCache, _cacheDuplicates, _fileBytes;

    public long ChatsImported => Interlocked.Read(ref _chatsImported);

    public long ChatsAlreadyThere => Interlocked.Read(ref _chatsAlreadyThere);

    public long ChatsSkipped => Interlocked.Read(ref _chatsSkipped);

    public long Messages => Interlocked.Read(ref _messages);

    public long MessagesFromCache => Interlocked.Read(ref _messagesFromCache);

    public long CacheDuplicates => Interlocked.Read(ref _cacheDuplicates);

    public long FileBytes => Interlocked.Read(ref _fileBytes);

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Start() => _printer = PrintAsync(_stop.Token);

    public void Imported(DjangoChatContent content)
    {
        Interlocked.Increment(ref _chatsImported);
        Interlocked.Add(ref _messages, content.Messages.Count);
        Interlocked.Add(ref _messagesFromCache, content.FromCache);
        Interlocked.Add(ref _cacheDuplicates, content.CacheDuplicates);
        Interlocked.Add(ref _fileBytes, content.FileBytes);
    }

    public void AlreadyThere(int count = 1) => Interlocked.Add(ref _chatsAlreadyThere, count);

    public void Skipped() => Interlocked.Increment(ref _chatsSkipped);

    public double MessagesPerSecond => Messages / Math.Max(Elapsed.TotalSeconds, 0.001);

    public double MegabytesPerSecond => FileBytes / 1e6 / Math.Max(Elapsed.TotalSeconds, 0.001);

    public string Line()
    {
        var done = ChatsImported + ChatsAlreadyThere + ChatsSkipped;
        var share = totalChats == 0 ? 1.0 : (double)done / totalChats;
        const int width = 24;
        var filled = (int)Math.Round(share * width);
        return string.Create(CultureInfo.InvariantCulture,
            $"chats [{new string('#', filled)}{new string('.', width - filled)}] {done:N0}/{totalChats:N0} ({share:P0})  messages {Messages:N0}  {MessagesPerSecond:N0} msg/s  {MegabytesPerSecond:N1} MB/s  skipped {ChatsSkipped:N0}  {Elapsed.TotalSeconds:N0} s");
    }

    private async Task PrintAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await output.WriteLineAsync(Line());
                await output.FlushAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _printer;
        _stop.Dispose();
        await output.WriteLineAsync(Line());
    }
}
