using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace SitMessenger.UnitTests.Manifest;

/// <summary>
/// Publishes the AppHost's deployment manifest the way a deployment tool asks for it (<c>--publisher manifest</c>) and
/// checks it against the Aspire manifest schema (Manifest/aspire-8.0.schema.json; Manifest/README.md says where it came
/// from) and against what the services need from each other.
/// </summary>
public sealed class AspireManifestTests(PublishedManifest published) : IClassFixture<PublishedManifest>
{
    private static readonly Lazy<JsonSchema> Schema = new(() =>
        JsonSchema.FromFile(Path.Combine(AppContext.BaseDirectory, "Manifest", "aspire-8.0.schema.json")));

    public static TheoryData<string> Secrets => new()
    {
        "postgres-password", "cache-password", "messaging-password", "jwt-signing-key", "chat-master-key", "gateway-forwarding-key", "operator-key",
    };

    public static TheoryData<string, string[]> ConnectionStringsByService => new()
    {
        { "api", ["cache", "messaging", "sitdb"] },
        { "worker", ["cache", "messaging", "sitdb"] },
        { "scheduler", ["cache", "messaging"] },
        { "migrations", ["sitdb"] },
        { "gateway", [] },
    };

    // One of each resource type the manifest holds.
    public static TheoryData<string> OneResourceOfEachType => new()
    {
        "postgres", "sitdb", "jwt-signing-key", "api", "postgres-password-uri-encoded",
    };

    [Fact]
    public void Publishing_the_manifest_exits_zero_and_writes_it()
    {
        Assert.True(published.ExitCode == 0, $"The AppHost exited {published.ExitCode}.\n{published.Output}");
        Assert.True(File.Exists(published.ManifestPath), $"No manifest at {published.ManifestPath}.\n{published.Output}");
    }

    // Aspire 13.2 stopped writing "$schema" (microsoft/aspire 268592da); were it to name one, it must be the fixture's.
    [Fact]
    public void The_published_manifest_names_no_schema_but_the_fixture()
    {
        Assert.Equal("https://json.schemastore.org/aspire-8.0.json", Schema.Value.BaseUri.ToString());
        Assert.Contains((string?)published.Manifest["$schema"], new[] { null, Schema.Value.BaseUri.ToString() });
    }

    [Fact]
    public void The_published_manifest_validates_against_the_aspire_schema()
    {
        var result = Validate(published.Manifest);

        Assert.True(result.IsValid, $"The manifest does not match the schema:\n{Describe(result)}");
    }

    [Theory]
    [MemberData(nameof(OneResourceOfEachType))]
    public void A_manifest_with_a_resource_missing_its_type_fails_validation(string resource)
    {
        var broken = published.Manifest.DeepClone();
        Assert.True(broken["resources"]![resource]!.AsObject().Remove("type"), $"{resource} has no type to remove.");

        var result = Validate(broken);

        Assert.False(result.IsValid, $"The schema accepted {resource} without a type.");
    }

    [Theory]
    [InlineData("postgres", "docker.io/library/postgres:")]
    [InlineData("cache", "docker.io/library/redis:")]
    [InlineData("messaging", "docker.io/library/rabbitmq:")]
    public void Each_server_is_a_container_of_its_image(string resource, string imagePrefix)
    {
        var server = Resource(resource);

        Assert.Equal("container.v0", (string?)server["type"]);
        Assert.StartsWith(imagePrefix, (string?)server["image"], StringComparison.Ordinal);
        Assert.False(string.IsNullOrEmpty((string?)server["connectionString"]), $"{resource} publishes no connection string.");
    }

    [Fact]
    public void The_messaging_server_is_the_rabbitmq_image_with_the_management_plugin()
    {
        var messaging = Resource("messaging");

        Assert.EndsWith("-management", (string?)messaging["image"], StringComparison.Ordinal);
        Assert.Equal("http", (string?)messaging["bindings"]?["management"]?["scheme"]);
    }

    [Fact]
    public void Sitdb_is_the_database_on_the_postgres_server()
    {
        var sitdb = Resource("sitdb");

        Assert.Equal("value.v0", (string?)sitdb["type"]);
        Assert.Equal("{postgres.connectionString};Database=sitmessenger", (string?)sitdb["connectionString"]);
    }

    [Theory]
    [MemberData(nameof(Secrets))]
    public void Each_secret_is_a_secret_parameter_generated_by_default(string name)
    {
        var parameter = Resource(name);
        var input = parameter["inputs"]?["value"];

        Assert.Equal("parameter.v0", (string?)parameter["type"]);
        Assert.Equal($"{{{name}.inputs.value}}", (string?)parameter["value"]);
        Assert.NotNull(input);
        Assert.Equal("string", (string?)input["type"]);
        Assert.True((bool?)input["secret"], $"{name} is not marked secret.");
        var generate = input["default"]?["generate"];
        Assert.True(generate is JsonObject, $"{name} has no generated default: {input.ToJsonString()}");
        Assert.True((int?)generate["minLength"] >= 22, $"{name} is generated shorter than 22 characters.");
    }

    [Theory]
    [MemberData(nameof(ConnectionStringsByService))]
    public void Each_service_is_a_project_given_the_connection_strings_it_needs(string service, string[] needs)
    {
        var project = Resource(service);
        var env = project["env"]?.AsObject() ?? [];

        Assert.Equal("project.v0", (string?)project["type"]);
        var given = env
            .Where(variable => variable.Key.StartsWith("ConnectionStrings__", StringComparison.Ordinal))
            .Select(variable => (Name: variable.Key["ConnectionStrings__".Length..], Value: (string?)variable.Value))
            .OrderBy(connection => connection.Name, StringComparer.Ordinal)
            .ToList();
        Assert.Equal(needs, given.Select(connection => connection.Name));
        Assert.All(given, connection => Assert.Equal($"{{{connection.Name}.connectionString}}", connection.Value));
    }

    [Fact]
    public void The_gateway_finds_the_api_over_http()
    {
        var gateway = Resource("gateway");

        Assert.Equal("{api.bindings.http.url}", (string?)gateway["env"]?["services__api__http__0"]);
        Assert.True((bool?)gateway["bindings"]?["http"]?["external"], "The gateway's http endpoint is not external.");
    }

    private JsonNode Resource(string name) =>
        published.Manifest["resources"]?[name] ?? throw new Xunit.Sdk.XunitException(
            $"The manifest has no resource {name}; it has {string.Join(", ", published.ResourceNames)}.");

    private static EvaluationResults Validate(JsonNode manifest) =>
        Schema.Value.Evaluate(
            JsonSerializer.SerializeToElement(manifest),
            new EvaluationOptions { OutputFormat = OutputFormat.List });

    // Under the resources' oneOf every branch a resource does not take reports its missing properties, so the list is
    // long; the errors deepest inside the manifest (a binding's scheme, say) are the telling ones, so they come first.
    private static string Describe(EvaluationResults result)
    {
        var lines = new[] { result }.Concat(result.Details ?? [])
            .Where(node => node.Errors is { Count: > 0 })
            .SelectMany(node => node.Errors!.Select(error => (
                Depth: node.InstanceLocation.ToString().Count(c => c == '/'),
                Line: $"{node.InstanceLocation} (schema {node.EvaluationPath}): {error.Key}: {error.Value}")))
            .OrderByDescending(error => error.Depth)
            .Select(error => error.Line)
            .ToList();
        return lines.Count == 0
            ? "(no errors reported)"
            : $"{lines.Count} errors, deepest first:\n{string.Join('\n', lines.Take(100))}";
    }
}

/// <summary>Runs <c>dotnet SitMessenger.AppHost.dll --publisher manifest</c> once for the class and parses what it wrote.</summary>
public sealed class PublishedManifest : IAsyncLifetime
{
    private readonly DirectoryInfo _output = Directory.CreateTempSubdirectory("sit-aspire-manifest-");

    public int ExitCode { get; private set; } = -1;

    public string Output { get; private set; } = "";

    public string ManifestPath => Path.Combine(_output.FullName, "aspire-manifest.json");

    public JsonNode Manifest { get; private set; } = new JsonObject();

    public IEnumerable<string> ResourceNames =>
        Manifest["resources"] is JsonObject resources ? resources.Select(r => r.Key) : [];

    public async Task InitializeAsync()
    {
        (ExitCode, Output) = await AppHostProcess.RunAsync("--publisher", "manifest", "--output-path", ManifestPath);
        if (File.Exists(ManifestPath))
        {
            Manifest = JsonNode.Parse(await File.ReadAllTextAsync(ManifestPath))
                ?? throw new InvalidDataException($"{ManifestPath} holds JSON null.");
        }
    }

    public Task DisposeAsync()
    {
        _output.Delete(recursive: true);
        return Task.CompletedTask;
    }
}

/// <summary>Runs the built AppHost (<c>dotnet SitMessenger.AppHost.dll ARGS</c>) as a deployment tool would, and gathers its output.</summary>
public static class AppHostProcess
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var appHost = AppHostAssembly();
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(appHost)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(appHost);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {start.FileName}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var output = new StringBuilder();
        using (var timeout = new CancellationTokenSource(Timeout))
        {
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                output.Append("Timed out after ").Append(Timeout).Append(".\n");
            }
        }

        output.Append("$ ").Append(start.FileName).Append(' ').AppendJoin(' ', start.ArgumentList).Append('\n')
            .Append(await stdout).Append(await stderr);
        return (process.ExitCode, output.ToString());
    }

    /// <summary>The repository's root (where SitMessenger.sln is), above the test's output folder.</summary>
    public static string RepositoryRoot()
    {
        var baseDirectory = Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory);
        var root = new DirectoryInfo(baseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "SitMessenger.sln")))
        {
            root = root.Parent;
        }

        return root?.FullName ?? throw new InvalidOperationException($"No SitMessenger.sln above {baseDirectory}.");
    }

    // The AppHost is built beside this assembly (the csproj references it without its output), in the same
    // configuration and target framework: <repo>/SitMessenger.AppHost/bin/<Configuration>/<tfm>/SitMessenger.AppHost.dll.
    private static string AppHostAssembly()
    {
        var configuration = typeof(AppHostProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration
            ?? throw new InvalidOperationException("The test assembly names no build configuration.");
        var baseDirectory = Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory);
        var targetFramework = Path.GetFileName(baseDirectory);
        var path = Path.Combine(
            RepositoryRoot(), "SitMessenger.AppHost", "bin", configuration, targetFramework, "SitMessenger.AppHost.dll");
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"The AppHost is not built in {configuration} ({path}).", path);
    }
}
