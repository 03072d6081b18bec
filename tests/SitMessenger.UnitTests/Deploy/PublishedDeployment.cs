using System.Diagnostics;
using System.Text.Json.Nodes;
using SitMessenger.UnitTests.Manifest;
using YamlDotNet.RepresentationModel;

namespace SitMessenger.UnitTests.Deploy;

/// <summary>One publication of the deployment for every test class that reads it (each costs five AppHost runs).</summary>
[CollectionDefinition(Name)]
public sealed class DeploymentCollection : ICollectionFixture<PublishedDeployment>
{
    public const string Name = "Published deployment";
}

/// <summary>
/// Publishes the AppHost three ways (manifest, compose, kubernetes) once for the tests, and compose and kubernetes a
/// second time into other folders, so determinism can be checked. The manifest is Aspire's own description of the
/// model: the outputs are checked against it.
/// </summary>
public sealed class PublishedDeployment : IAsyncLifetime
{
    public const string ComposeFile = "docker-compose.yaml";

    /// <summary>Generated with random values and never committed.</summary>
    public static readonly IReadOnlySet<string> SecretFiles = new HashSet<string>(StringComparer.Ordinal) { ".env", "secrets.env" };

    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("sit-deploy-");

    public string Output { get; private set; } = "";

    public List<int> ExitCodes { get; } = [];

    public JsonObject ManifestResources { get; private set; } = [];

    public string Compose => Path.Combine(_root.FullName, "compose");

    public string ComposeAgain => Path.Combine(_root.FullName, "compose-again");

    public string Kubernetes => Path.Combine(_root.FullName, "k8s");

    public string KubernetesAgain => Path.Combine(_root.FullName, "k8s-again");

    public YamlMappingNode ComposeServices { get; private set; } = new();

    public async Task InitializeAsync()
    {
        var manifest = Path.Combine(_root.FullName, "aspire-manifest.json");
        foreach (var args in new[]
        {
            new[] { "--publisher", "manifest", "--output-path", manifest },
            ["--publisher", "compose", "--output-path", Compose],
            ["--publisher", "compose", "--output-path", ComposeAgain],
            ["--publisher", "kubernetes", "--output-path", Kubernetes],
            ["--publisher", "kubernetes", "--output-path", KubernetesAgain],
        })
        {
            var (exitCode, output) = await AppHostProcess.RunAsync(args);
            ExitCodes.Add(exitCode);
            Output += output;
        }

        if (File.Exists(manifest))
        {
            ManifestResources = JsonNode.Parse(await File.ReadAllTextAsync(manifest))?["resources"]?.AsObject() ?? [];
        }

        var composeFile = Path.Combine(Compose, ComposeFile);
        if (File.Exists(composeFile))
        {
            var yaml = new YamlStream();
            yaml.Load(new StringReader(await File.ReadAllTextAsync(composeFile)));
            ComposeServices = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["services"];
        }
    }

    /// <summary>The model's deployable resources: Aspire's containers and our projects.</summary>
    public IEnumerable<(string Name, JsonObject Resource)> Workloads() =>
        ManifestResources
            .Where(resource => (string?)resource.Value?["type"] is "container.v0" or "container.v1" or "project.v0" or "project.v1")
            .Select(resource => (resource.Key, resource.Value!.AsObject()));

    public IEnumerable<string> SecretParameters() =>
        ManifestResources
            .Where(resource => (string?)resource.Value?["type"] == "parameter.v0" && (bool?)resource.Value?["inputs"]?["value"]?["secret"] == true)
            .Select(resource => resource.Key);

    /// <summary>Every file of a generated folder but the secrets, by name.</summary>
    public static SortedDictionary<string, byte[]> Files(string folder) => new(
        Directory.EnumerateFiles(folder).Where(path => !SecretFiles.Contains(Path.GetFileName(path)))
            .ToDictionary(path => Path.GetFileName(path), File.ReadAllBytes),
        StringComparer.Ordinal);

    public static (int ExitCode, string Output) Tool(string fileName, params string[] args)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout.Result + stderr);
        }
        catch (System.ComponentModel.Win32Exception missing)
        {
            throw new InvalidOperationException($"{fileName} is not installed: run scripts/install-prerequisites.sh ({missing.Message}).", missing);
        }
    }

    public Task DisposeAsync()
    {
        _root.Delete(recursive: true);
        return Task.CompletedTask;
    }
}
