using SitMessenger.Testing;

namespace SitMessenger.SystemTests.Infrastructure;

/// <summary>One running system (real PostgreSQL, Redis, RabbitMQ and every service) shared by the tests of the assembly.</summary>
public sealed class SitMessengerAppFixture : IAsyncLifetime
{
    /// <summary>The Api's per-address attempt limit (registrations and logins a minute) for the suite.</summary>
    public const int LoginAttemptsPerAddress = 500;

    public static TimeSpan StartupBudget => SitMessengerSystem.StartupBudget;

    public SitMessengerSystem App { get; private set; } = null!;

    public HttpClient Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = await SitMessengerSystem.StartAsync(new Dictionary<string, string?>
        {
            // A short flush delay so the tests see messages move into segments without waiting 20 s each time.
            ["SitMessenger:FlushDelay"] = "00:00:03",
            // Two Api processes behind the Gateway, as in production: every test also checks they agree.
            ["AppHost:ApiReplicas"] = "2",
            // Every test comes from 127.0.0.1: lift the per-address and per-user limits that bulk tests would hit, and
            // shorten the login window so the rate-limit test recovers quickly.
            ["Services:gateway:RateLimits:PerAddress:PermitLimit"] = "1000000",
            ["Services:gateway:RateLimits:PerUser:PermitLimit"] = "1000000",
            ["Services:gateway:RateLimits:Sends:PermitLimit"] = "1000000",
            ["Services:gateway:RateLimits:Auth:PermitLimit"] = "60",
            ["Services:gateway:RateLimits:Auth:Window"] = "00:00:10",
            ["Services:gateway:Gateway:MaxRequestBodyBytes"] = "262144",
            // The per-username login throttle stays as shipped; the per-address one would count the whole suite.
            ["Services:api:LoginThrottle:AttemptsPerAddress"] = LoginAttemptsPerAddress.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        Gateway = new HttpClient { BaseAddress = App.GetEndpoint("gateway"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        Gateway?.Dispose();
        if (App is not null)
        {
            await App.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SystemCollection : ICollectionFixture<SitMessengerAppFixture>
{
    public const string Name = "SIT Messenger system";
}
