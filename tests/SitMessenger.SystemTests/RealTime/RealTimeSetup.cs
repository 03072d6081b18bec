using SitMessenger.SystemTests.Api;
using SitMessenger.SystemTests.Infrastructure;

namespace SitMessenger.SystemTests.RealTime;

/// <summary>Users and addresses the real-time tests share: registered once per running system (registration is throttled).</summary>
internal static class RealTimeSetup
{
    private static readonly Lock Gate = new();
    private static HttpClient? s_usersFor;
    private static Task<IReadOnlyList<TestUser>>? s_users;

    /// <summary>Five users of their own, so no other test's chats reach their connections.</summary>
    public static Task<IReadOnlyList<TestUser>> UsersAsync(SitApiClient api)
    {
        lock (Gate)
        {
            if (s_users is null || !ReferenceEquals(s_usersFor, api.Gateway))
            {
                s_usersFor = api.Gateway;
                s_users = CreateAsync(api);
            }

            return s_users;
        }
    }

    public static Uri Gateway(SitMessengerAppFixture fixture) => fixture.App.GetEndpoint("gateway");

    /// <summary>Each Api replica's own address, to hold a connection on every replica for certain.</summary>
    public static IReadOnlyList<Uri> ApiReplicas(SitMessengerAppFixture fixture)
    {
        var replicas = fixture.App.Replicas("api").Select(r => fixture.App.GetEndpoint(r.Name)).ToList();
        Assert.True(replicas.Count >= 2, $"the suite's system should run two Api replicas, found {replicas.Count}");
        return replicas;
    }

    public static async Task<Guid> CreateChatAsync(SitApiClient api, TestUser creator, params TestUser[] others) =>
        Guid.Parse(await api.CreateChatAsync(creator, others));

    private static async Task<IReadOnlyList<TestUser>> CreateAsync(SitApiClient api)
    {
        var users = new List<TestUser>();
        for (var i = 1; i <= 5; i++)
        {
            users.Add(await api.CreateUserAsync($"rt{i}"));
        }

        return users;
    }
}
