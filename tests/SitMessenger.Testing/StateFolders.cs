using SitMessenger.Hosting.LocalServers;

namespace SitMessenger.Testing;

public static class StateFolders
{
    public static void Delete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // A temporary folder; the OS cleans it eventually. Never fail a test on cleanup.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Processes working in the given state folder, as "pid: command line".</summary>
    public static IReadOnlyList<string> ProcessesUsing(string stateDirectory) =>
        [.. LocalProcessTable.Using(stateDirectory).Select(p => $"{p.Pid}: {p.CommandLine}")];
}
