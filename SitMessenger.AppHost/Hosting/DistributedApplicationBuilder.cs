using Microsoft.Extensions.Configuration;

namespace SitMessenger.AppHost.Hosting;

/// <summary>Collects the resources of the application model; shaped like Aspire's <c>IDistributedApplicationBuilder</c>.</summary>
public sealed class DistributedApplicationBuilder
{
    private readonly List<Resource> _resources = [];

    internal DistributedApplicationBuilder(string[] args, TestingHook? testing)
    {
        Testing = testing;
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args, AppHostOptions.CommandLineSwitches);
        if (testing is not null)
        {
            configuration.AddInMemoryCollection(testing.Settings);
        }

        Configuration = configuration.Build();
        Configuration.GetSection(AppHostOptions.SectionName).Bind(Options);
        EnvironmentName = Configuration["DOTNET_ENVIRONMENT"] ?? "Development";
        StateDirectory = Path.GetFullPath(Options.StateDirectory ?? Path.Combine(FindRepositoryRoot(), ".state"));
    }

    /// <summary>Where server data, generated secrets, logs and local volumes live for this run.</summary>
    public string StateDirectory { get; }

    public IConfiguration Configuration { get; }

    public AppHostOptions Options { get; } = new();

    public string EnvironmentName { get; }

    internal TestingHook? Testing { get; }

    internal IReadOnlyList<Resource> Resources => _resources;

    public ResourceBuilder<T> AddResource<T>(T resource) where T : Resource
    {
        ArgumentNullException.ThrowIfNull(resource);
        if (_resources.Any(r => string.Equals(r.Name, resource.Name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new InvalidOperationException($"A resource named '{resource.Name}' already exists.");
        }

        _resources.Add(resource);
        return new ResourceBuilder<T>(this, resource);
    }

    public ResourceBuilder<ParameterResource> AddParameter(string name, bool secret = false) =>
        AddResource(new ParameterResource(name, secret));

    public ResourceBuilder<ProjectResource> AddProject<TProject>(string name) where TProject : IProjectMetadata, new()
    {
        var project = AddResource(new ProjectResource(name, new TProject())).WithHttpEndpoint();
        // Operator overrides per service: AppHost configuration "Services:{name}:Section:Key" becomes Section__Key for it.
        project.Resource.Overrides = Configuration.GetSection($"Services:{name}");
        return project;
    }

    public DistributedApplication Build()
    {
        var stateDirectory = StateDirectory;
        Directory.CreateDirectory(stateDirectory);

        var secrets = new SecretStore(Path.Combine(stateDirectory, "secrets.json"));
        foreach (var parameter in _resources.OfType<ParameterResource>())
        {
            parameter.Resolve(Configuration[$"Parameters:{parameter.Name}"] ?? secrets.GetOrCreate(parameter.Name));
        }

        foreach (var project in _resources.OfType<ProjectResource>().ToList())
        {
            project.Instances.Add(project);
            for (var index = 1; index < project.Replicas; index++)
            {
                var replica = project.CreateReplica(index);
                project.Instances.Add(replica);
                _resources.Insert(_resources.IndexOf(project) + index, replica);
            }
        }

        foreach (var endpoint in _resources.SelectMany(r => r.Endpoints).Where(e => e.Port == 0))
        {
            endpoint.Port = PortAllocator.GetFreePort();
        }

        // One-shot projects (the migrator) have no endpoint to probe; the runner waits for them to finish instead.
        foreach (var project in _resources.OfType<ProjectResource>().Where(p => _resources.Any(r => r.WaitsForCompletion.Contains(p))))
        {
            project.Endpoints.Clear();
        }

        var dashboardPort = Options.DashboardPort switch
        {
            < 0 => (int?)null,
            0 => PortAllocator.GetFreePort(),
            var port => port,
        };

        var application = new DistributedApplication(this, stateDirectory, dashboardPort);
        if (Testing is not null)
        {
            Testing.Application = application;
            // Hands the built application to the test instead of running it (what HostFactoryResolver does).
            throw new Microsoft.Extensions.Hosting.HostAbortedException();
        }

        return application;
    }

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "SitMessenger.sln")))
            {
                return folder.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }
}

/// <summary>Lets the testing builder run the AppHost's own Program.cs and take the application it builds.</summary>
internal sealed class TestingHook(IDictionary<string, string?> settings)
{
    public IDictionary<string, string?> Settings { get; } = settings;

    public DistributedApplication? Application { get; set; }
}
