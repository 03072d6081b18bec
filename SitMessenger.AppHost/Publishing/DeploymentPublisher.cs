using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace SitMessenger.AppHost.Publishing;

/// <summary>
/// <c>--publisher compose|kubernetes --output-path DIR</c>: writes the deployment from the built model instead of running
/// it. Aspire's pipeline keeps <c>--publisher manifest</c>; its default publish steps would build the services' container
/// images, which needs an engine, so these publishers run outside it.
/// </summary>
internal static class DeploymentPublisher
{
    /// <summary>
    /// Checks <c>--publisher</c> and <c>--output-path</c> before the model is built; a bad one is reported with the choices.
    /// Returns the publisher to run after the build (null for a run or the manifest) or an error message.
    /// </summary>
    public static (string? Publisher, string? Error) Check(IDistributedApplicationBuilder builder)
    {
        var publisher = builder.Configuration["Publishing:Publisher"];
        if (publisher is null)
        {
            return (null, null);
        }

        var choices = string.Join(", ", DeploymentOptions.Publishers);
        if (!DeploymentOptions.Publishers.Contains(publisher, StringComparer.Ordinal))
        {
            return (null, $"Unknown publisher '{publisher}'. Choose one of: {choices} (e.g. --publisher compose --output-path deploy/compose).");
        }

        if (string.IsNullOrWhiteSpace(builder.Configuration["Pipeline:OutputPath"]))
        {
            return (null, $"--publisher {publisher} needs --output-path (the {(publisher == "manifest" ? "manifest file" : "folder")} to write). Publishers: {choices}.");
        }

        return (publisher == "manifest" ? null : publisher, null);
    }

    public static async Task<int> PublishAsync(DistributedApplication app, string publisher)
    {
        var configuration = app.Services.GetRequiredService<IConfiguration>();
        var options = configuration.GetSection(DeploymentOptions.SectionName).Get<DeploymentOptions>() ?? new DeploymentOptions();
        var output = OutputFolder(configuration["Pipeline:OutputPath"]!);
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();
        var execution = app.Services.GetRequiredService<DistributedApplicationExecutionContext>();

        var deployment = await new DeploymentModelReader(model, execution, options).ReadAsync(CancellationToken.None);
        var (files, secretsFile) = publisher == "compose"
            ? (new ComposeGenerator(options).Generate(deployment), ComposeGenerator.SecretsFileName)
            : (new KubernetesGenerator(options).Generate(deployment), KubernetesGenerator.SecretsFileName);

        Directory.CreateDirectory(output);
        foreach (var (name, text) in files)
        {
            await File.WriteAllTextAsync(Path.Combine(output, name), text);
        }

        var secrets = Path.Combine(output, secretsFile);
        var wrote = SecretsFile.Ensure(secrets, deployment.Secrets);
        Console.WriteLine($"Wrote {files.Count} files for {publisher} to {output}; secrets in {secrets} {(wrote ? "(generated)" : "(kept)")}.");
        return 0;
    }

    /// <summary>
    /// A relative path is taken from where the operator typed the command (the shell's PWD): <c>dotnet run --project</c>
    /// starts the AppHost in its project folder, so <c>--output-path deploy/compose</c> would land inside it.
    /// </summary>
    private static string OutputFolder(string path) =>
        Environment.GetEnvironmentVariable("PWD") is { Length: > 0 } shell && Path.IsPathRooted(shell)
            ? Path.GetFullPath(path, shell)
            : Path.GetFullPath(path);
}
