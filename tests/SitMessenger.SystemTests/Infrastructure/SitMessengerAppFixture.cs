using SitMessenger.AppHost.Hosting;
using SitMessenger.AppHost.Hosting.Testing;

namespace SitMessenger.SystemTests.Infrastructure;

/// <summary>One running system (real PostgreSQL, Redis, RabbitMQ and every service) shared by the tests of the assembly.</summary>
public sealed class SitMessengerAppFixture : IAsyncLifetime
{
    public static readonly TimeSpan StartupBudget = TimeSpan.FromMinutes(3);

    public DistributedApplication App { get; private set; } = null!;

    public HttpClient Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = DistributedApplicationTestingBuilder.Create<Program>();
        using var timeout = new CancellationTokenSource(StartupBudget);
        await App.StartAsync(timeout.Token);
        Gateway = new HttpClient { BaseAddress = App.GetEndpoint("gateway"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        Gateway?.Dispose();
        if (App is not null)
        {
            await App.DisposeAsync();
            StateFolders.Delete(App.StateDirectory);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SystemCollection : ICollectionFixture<SitMessengerAppFixture>
{
    public const string Name = "SIT Messenger system";
}
