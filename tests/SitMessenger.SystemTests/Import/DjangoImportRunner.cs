using System.Diagnostics;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using SitMessenger.SystemTests.Api;
using SitMessenger.Testing.Django;

namespace SitMessenger.SystemTests.Import;

/// <summary>Runs the MigrationService's <c>import-django</c> as an operator would, against the running system's database and key ring.</summary>
internal sealed class DjangoImportRunner(SitMessengerSystem system)
{
    public static readonly TimeSpan Budget = TimeSpan.FromMinutes(3);

    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath ? hostPath : "dotnet";

    public static string Project => Path.Combine(RepositoryRoot(), "SitMessenger.MigrationService");

    public static string Assembly
    {
        get
        {
            var path = Path.Combine(Project, "bin", "Debug", "net10.0", "SitMessenger.MigrationService.dll");
            Assert.True(File.Exists(path), $"{path} does not exist: build the solution first");
            return path;
        }
    }

    public string[] Arguments(DjangoInstallation source, bool withRedis = true, params string[] more) =>
    [
        Assembly, "import-django", "--database", source.ConnectionString, "--media-root", source.MediaRoot,
        .. withRedis ? new[] { "--redis", system.GetConnectionString("cache") } : [],
        .. more,
    ];

    public async Task<Dictionary<string, string>> EnvironmentAsync()
    {
        var masterKey = await system.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ParameterResource>()
            .Single(p => p.Name == "chat-master-key").GetValueAsync(CancellationToken.None);
        return new Dictionary<string, string>
        {
            ["ConnectionStrings__sitdb"] = system.GetConnectionString("sitdb"),
            ["ChatKeyRing__Keys__k1"] = masterKey!,
            ["ChatKeyRing__ActiveKeyId"] = "k1",
            ["DOTNET_ENVIRONMENT"] = "Development",
        };
    }

    public async Task<ChildProcessResult> RunAsync(DjangoInstallation source, bool withRedis = true, params string[] more) =>
        await ChildProcess.RunAsync(Dotnet, Arguments(source, withRedis, more), await EnvironmentAsync(), Budget, Project);

    /// <summary>Starts the import without waiting for it, so a test can kill it midway.</summary>
    public async Task<Process> StartAsync(DjangoInstallation source, params string[] more)
    {
        var startInfo = new ProcessStartInfo(Dotnet)
        {
            WorkingDirectory = Project,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in Arguments(source, withRedis: true, more))
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in await EnvironmentAsync())
        {
            startInfo.Environment[name] = value;
        }

        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start the import");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "SitMessenger.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"no SitMessenger.sln above {AppContext.BaseDirectory}");
    }
}
