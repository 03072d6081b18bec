namespace SitMessenger.Chat.Messaging;

/// <summary>Section "Flush": how long a chat's new messages wait before they are moved into a segment.</summary>
public sealed class FlushOptions
{
    public const string SectionName = "Flush";

    /// <summary>20 s, as the original's Celery countdown: a burst of messages becomes one segment.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Redis key that marks "a flush of this chat is already on its way" (the Celery task id's job).</summary>
    public static string PendingKey(Guid chatId) => $"flush:scheduled:{chatId:N}";
}
