using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace SitMessenger.UnitTests.Deploy;

/// <summary>
/// Just enough of a Kubernetes API server for <c>kubectl apply --dry-run=client</c>: kubectl maps each document's kind to
/// a resource through discovery and asks whether the object exists, even in a client-side dry run. This answers discovery
/// for the kinds given and "not found" for every object, so kubectl checks and prints every document without a cluster.
/// A kind missing from discovery fails the apply, as it would against a real cluster without it.
/// </summary>
internal sealed class DiscoveryOnlyKubernetesApi : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, object> _answers = new(StringComparer.Ordinal);
    private readonly Task _serving;

    public DiscoveryOnlyKubernetesApi(IEnumerable<(string ApiVersion, string Kind, bool Namespaced)> kinds)
    {
        var byVersion = kinds.Distinct().GroupBy(kind => kind.ApiVersion).ToList();
        _answers["/api"] = new { kind = "APIVersions", versions = new[] { "v1" }, serverAddressByClientCIDRs = Array.Empty<object>() };
        var groups = byVersion.Where(version => version.Key.Contains('/', StringComparison.Ordinal)).Select(version => version.Key).ToList();
        _answers["/apis"] = new
        {
            kind = "APIGroupList",
            apiVersion = "v1",
            groups = groups.Select(groupVersion => new
            {
                name = groupVersion.Split('/')[0],
                versions = new[] { new { groupVersion, version = groupVersion.Split('/')[1] } },
                preferredVersion = new { groupVersion, version = groupVersion.Split('/')[1] },
            }),
        };
        foreach (var version in byVersion)
        {
            _answers[version.Key.Contains('/', StringComparison.Ordinal) ? $"/apis/{version.Key}" : $"/api/{version.Key}"] = new
            {
                kind = "APIResourceList",
                apiVersion = "v1",
                groupVersion = version.Key,
                resources = version.Select(kind => new
                {
                    name = kind.Kind.ToLowerInvariant() + "s",
                    singularName = kind.Kind.ToLowerInvariant(),
                    namespaced = kind.Namespaced,
                    kind = kind.Kind,
                    verbs = new[] { "create", "delete", "get", "list", "patch", "update", "watch" },
                }),
            };
        }

        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    public int Port { get; }

    /// <summary>A kubeconfig that points kubectl here.</summary>
    public string WriteKubeconfig(string folder)
    {
        var path = Path.Combine(folder, "kubeconfig");
        File.WriteAllText(path, $$$"""
            apiVersion: v1
            kind: Config
            clusters: [{name: stub, cluster: {server: "http://127.0.0.1:{{{Port}}}"}}]
            users: [{name: stub, user: {}}]
            contexts: [{name: stub, context: {cluster: stub, user: stub}}]
            current-context: stub
            """);
        return path;
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }

            var found = _answers.TryGetValue(context.Request.Url!.AbsolutePath, out var answer);
            var body = JsonSerializer.SerializeToUtf8Bytes(found
                ? answer
                : new { kind = "Status", apiVersion = "v1", status = "Failure", reason = "NotFound", code = 404 });
            context.Response.StatusCode = found ? 200 : 404;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(body);
            context.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _serving.Wait(TimeSpan.FromSeconds(5));
    }
}
