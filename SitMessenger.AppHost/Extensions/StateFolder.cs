using Microsoft.Extensions.Configuration;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;

namespace SitMessenger.AppHost.Extensions;

/// <summary>Raised when another AppHost already runs on the state folder: it owns those servers' data.</summary>
internal sealed class StateFolderInUseException(string folder, string owner) : Exception(
    $"Another AppHost (pid {owner}) is already running on the state folder {folder}. " +
    $"Stop it (Ctrl+C in its terminal, or kill {owner}), or run this one on another folder: --state-dir <path> " +
    "(and --gateway-port 0 if it holds port 8000).")
{
    public string Folder { get; } = folder;
}

/// <summary>
/// The folder a local run keeps its servers' data, generated secrets and segment files in. One AppHost at a time:
/// the lock is an OS file lock, released even when the AppHost is killed.
/// </summary>
internal sealed class StateFolder : IDisposable
{
    private const string SecretsFile = "secrets.json";
    private readonly FileStream _lock;

    private StateFolder(string path, FileStream fileLock)
    {
        Path = path;
        _lock = fileLock;
    }

    public string Path { get; }

    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Takes the folder, or says who has it.</summary>
    public static StateFolder Acquire(string path)
    {
        CreateOwnerOnly(path);
        var pidFile = System.IO.Path.Combine(path, "apphost.pid");
        FileStream fileLock;
        try
        {
            fileLock = new FileStream(System.IO.Path.Combine(path, "apphost.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new StateFolderInUseException(path, File.Exists(pidFile) ? File.ReadAllText(pidFile).Trim() : "unknown");
        }

        // Beside the lock, not in it: a file held with FileShare.None cannot be read by the one that is refused.
        File.WriteAllText(pidFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        LeftoverProcesses.Stop(path);
        return new StateFolder(path, fileLock);
    }

    /// <summary>
    /// Gives every secret parameter without a configured value (<c>Parameters:{name}</c>) the one generated for this
    /// folder, generating it the first time: the servers' data was initialised with those passwords, so they must
    /// outlive the run, and stay with the folder rather than in a user-wide store.
    /// </summary>
    public void ProvideSecrets(IDistributedApplicationBuilder builder)
    {
        var path = Combine(SecretsFile);
        var values = File.Exists(path) ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path)) ?? [] : [];
        var changed = false;
        var provided = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var parameter in builder.Resources.OfType<ParameterResource>().Where(p => p.Secret))
        {
            if (builder.Configuration[$"Parameters:{parameter.Name}"] is { Length: > 0 })
            {
                continue;
            }

            if (!values.TryGetValue(parameter.Name, out var value))
            {
                value = parameter.Default?.GetDefaultValue() ?? Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
                values[parameter.Name] = value;
                changed = true;
            }

            provided[$"Parameters:{parameter.Name}"] = value;
        }

        if (changed)
        {
            Save(path, values);
        }

        builder.Configuration.AddInMemoryCollection(provided);
    }

    /// <summary>
    /// The folder holds secrets, the servers' data and logs: 0700, and a folder made before this rule loses its group and
    /// other bits too. The servers' own accounts get only the right to pass through (ServiceAccounts adds it).
    /// </summary>
    private static void CreateOwnerOnly(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var mode = File.GetUnixFileMode(path);
        const UnixFileMode listOrWrite = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
        if ((mode & listOrWrite) != 0)
        {
            File.SetUnixFileMode(path, mode & ~listOrWrite);
        }
    }

    private static void Save(string path, Dictionary<string, string> values)
    {
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            JsonSerializer.Serialize(stream, values, new JsonSerializerOptions { WriteIndented = true });
        }

        File.Move(temporary, path, overwrite: true);
    }

    public void Dispose() => _lock.Dispose();
}

/// <summary>Holds the state folder's lock for the application's lifetime.</summary>
internal sealed class StateFolderOwner(StateFolder state) : Microsoft.Extensions.Hosting.IHostedService, IDisposable
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => state.Dispose();
}
