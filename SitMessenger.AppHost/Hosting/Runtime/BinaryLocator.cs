namespace SitMessenger.AppHost.Hosting;

/// <summary>Finds server executables on the search path and says which Debian package to install when one is missing.</summary>
internal sealed class BinaryLocator(string? searchPath)
{
    // Debian keeps PostgreSQL's and RabbitMQ's real binaries outside PATH.
    private static readonly string[] DebianPrivateFolders =
    [
        .. Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(version => Path.Combine(version, "bin"))
            : [],
        "/usr/lib/rabbitmq/bin",
        "/usr/sbin",
        "/sbin",
    ];

    private readonly string[] _folders = searchPath is { Length: > 0 }
        ? searchPath.Split(':', StringSplitOptions.RemoveEmptyEntries)
        : [.. (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries), .. DebianPrivateFolders];

    public string? TryFind(string name) =>
        _folders.Select(folder => Path.Combine(folder, name)).FirstOrDefault(File.Exists);

    public string Find(RequiredBinary binary, string resourceName) =>
        TryFind(binary.Name) ?? throw new ResourceStartException(resourceName, MissingMessage(binary));

    public static string MissingMessage(RequiredBinary binary) =>
        $"'{binary.Name}' was not found. Install the Debian package: sudo apt-get install -y {binary.DebianPackage}";
}
