namespace SitMessenger.Api.RealTime;

/// <summary>Section "RealTime": the chat hub's limits and timeouts.</summary>
internal sealed class RealTimeOptions
{
    public const string SectionName = "RealTime";

    /// <summary>Open hub connections one user may hold on one Api replica (each further one is refused).</summary>
    public int ConnectionsPerUser { get; set; } = 20;

    /// <summary>Sends per connection within <see cref="SendWindow"/>: the Gateway's per-user REST send limit.</summary>
    public int SendsPerWindow { get; set; } = 120;

    public TimeSpan SendWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Typing notices per connection within <see cref="SendWindow"/>.</summary>
    public int TypingPerWindow { get; set; } = 30;

    /// <summary>How long a <c>typing</c> event holds unless repeated: clients drop the notice after it.</summary>
    public TimeSpan TypingExpiry { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The server pings each client this often, so proxies see traffic and clients see a live server.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A connection that sends nothing (not even its client's pings) for this long is closed.</summary>
    public TimeSpan ClientTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A connection that does not complete the SignalR handshake within this is closed.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long a replica holds a chat's event back while the previous seq of that chat (sent through another
    /// replica, or still being published here) has not gone out yet. Past it the event goes anyway: clients fill a
    /// gap with CatchUp.
    /// </summary>
    public TimeSpan OrderWait { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Whether <c>message</c> events carry the text. The Redis backplane passes events through Redis pub/sub (in
    /// transit, never stored); false keeps message text out of Redis entirely, and clients read it with CatchUp.
    /// </summary>
    public bool TextInEvents { get; set; } = true;

    /// <summary>Most messages one CatchUp answers (clients call again while <c>has_more</c>).</summary>
    public int MaxCatchUp { get; set; } = 500;

    public bool IsValid() =>
        ConnectionsPerUser >= 1 && SendsPerWindow >= 1 && TypingPerWindow >= 1 && SendWindow > TimeSpan.Zero
        && TypingExpiry > TimeSpan.Zero && KeepAliveInterval > TimeSpan.Zero && ClientTimeout > KeepAliveInterval
        && HandshakeTimeout > TimeSpan.Zero && OrderWait >= TimeSpan.Zero && MaxCatchUp >= 1;
}
