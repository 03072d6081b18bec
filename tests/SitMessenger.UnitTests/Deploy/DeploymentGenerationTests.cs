using SitMessenger.UnitTests.Manifest;

namespace SitMessenger.UnitTests.Deploy;

/// <summary>Generation is a function of the model: the same bytes every time, and the committed files are what it writes.</summary>
[Collection(DeploymentCollection.Name)]
public sealed class DeploymentGenerationTests(PublishedDeployment published)
{
    [Fact]
    public void Generating_twice_writes_the_same_bytes_apart_from_the_secrets()
    {
        Assert.Equal(Describe(PublishedDeployment.Files(published.Compose)), Describe(PublishedDeployment.Files(published.ComposeAgain)));
        Assert.Equal(Describe(PublishedDeployment.Files(published.Kubernetes)), Describe(PublishedDeployment.Files(published.KubernetesAgain)));
    }

    [Fact]
    public void Generated_secrets_are_random_per_deployment()
    {
        Assert.NotEqual(File.ReadAllText(Path.Combine(published.Compose, ".env")), File.ReadAllText(Path.Combine(published.ComposeAgain, ".env")));
    }

    [Theory]
    [InlineData("compose")]
    [InlineData("k8s")]
    public void The_committed_deployment_equals_a_fresh_generation(string folder)
    {
        var committed = PublishedDeployment.Files(Path.Combine(AppHostProcess.RepositoryRoot(), "deploy", folder));
        var fresh = PublishedDeployment.Files(folder == "compose" ? published.Compose : published.Kubernetes);

        Assert.True(
            Describe(committed) == Describe(fresh),
            $"deploy/{folder} differs from a fresh generation: run `dotnet run --project SitMessenger.AppHost -- --publisher {(folder == "compose" ? "compose" : "kubernetes")} --output-path deploy/{folder}` and commit.\n"
            + string.Join('\n', fresh.Keys.Union(committed.Keys).Where(name => !committed.TryGetValue(name, out var c) || !fresh.TryGetValue(name, out var f) || !c.SequenceEqual(f))));
    }

    [Fact]
    public async Task An_unknown_publisher_exits_non_zero_naming_the_choices()
    {
        var (exitCode, output) = await AppHostProcess.RunAsync("--publisher", "helm", "--output-path", Path.GetTempPath());

        Assert.NotEqual(0, exitCode);
        Assert.Contains("manifest, compose, kubernetes", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("compose")]
    [InlineData("kubernetes")]
    [InlineData("manifest")]
    public async Task A_missing_output_path_exits_non_zero_naming_the_choices(string publisher)
    {
        var (exitCode, output) = await AppHostProcess.RunAsync("--publisher", publisher);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("--output-path", output, StringComparison.Ordinal);
        Assert.Contains("manifest, compose, kubernetes", output, StringComparison.Ordinal);
    }

    // File names with a hash of their bytes, so a difference shows which file it is in.
    private static string Describe(SortedDictionary<string, byte[]> files) =>
        string.Join('\n', files.Select(file => $"{file.Key} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(file.Value))[..16]}"));
}
