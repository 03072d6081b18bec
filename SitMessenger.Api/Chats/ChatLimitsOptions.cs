namespace SitMessenger.Api.Chats;

/// <summary>
/// Bounds on chats (section "ChatLimits"): without them one user could put another into thousands of chats and make
/// that user's chat list grow without end.
/// </summary>
internal sealed class ChatLimitsOptions
{
    public const string SectionName = "ChatLimits";

    /// <summary>Chats one user may create within <see cref="CreationWindow"/>, counted in PostgreSQL across every Api replica.</summary>
    public int ChatsPerUser { get; set; } = 60;

    public TimeSpan CreationWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Members of one chat, its creator included.</summary>
    public int MembersPerChat { get; set; } = 100;

    /// <summary>Page size of GET /api/v1/chat/ when <c>before</c> is given without <c>limit</c>.</summary>
    public int DefaultListPage { get; set; } = 100;

    /// <summary>Largest <c>limit</c> GET /api/v1/chat/ accepts.</summary>
    public int MaxListPage { get; set; } = 500;
}
