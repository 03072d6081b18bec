namespace SitMessenger.Hosting.LocalServers;

/// <summary>A server program the machine must have, and the Debian package that brings it.</summary>
public sealed record ServerBinary(string Name, string DebianPackage);

/// <summary>Raised while the model is built when a server program is missing, naming the package to install.</summary>
public sealed class ServerBinaryNotFoundException(string resourceName, ServerBinary binary, IReadOnlyList<string> searched)
    : Exception($"Resource '{resourceName}': '{binary.Name}' was not found (searched {string.Join(':', searched)}). " +
        $"Install the Debian package: sudo apt-get install -y {binary.DebianPackage}")
{
    public string ResourceName { get; } = resourceName;

    public ServerBinary Binary { get; } = binary;
}

/// <summary>Finds server programs on a search path; by default PATH plus the folders where Debian keeps the real binaries.</summary>
public sealed class ServerBinaries
{
    /// <summary>Configuration key of the AppHost that replaces the search path (folders separated by ':').</summary>
    public const string SearchPathKey = "LocalServers:BinarySearchPath";

    private readonly string[] _folders;

    public ServerBinaries(string? searchPath)
    {
        _folders = searchPath is { Length: > 0 }
            ? searchPath.Split(':', StringSplitOptions.RemoveEmptyEntries)
            : [.. (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries), .. DebianPrivateFolders()];
    }

    public string? TryFind(string name) => _folders.Select(folder => Path.Combine(folder, name)).FirstOrDefault(File.Exists);

    public string Find(ServerBinary binary, string resourceName) =>
        TryFind(binary.Name) ?? throw new ServerBinaryNotFoundException(resourceName, binary, _folders);

    // Debian keeps PostgreSQL's and RabbitMQ's real binaries outside PATH; the newest PostgreSQL first.
    private static IEnumerable<string> DebianPrivateFolders() =>
    [
        .. Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(version => Path.Combine(version, "bin"))
            : [],
        "/usr/lib/rabbitmq/bin",
        "/usr/sbin",
        "/sbin",
    ];
}
