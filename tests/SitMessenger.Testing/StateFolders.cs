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

    /// <summary>Processes whose command line or working folder points into the given state folder.</summary>
    public static IReadOnlyList<string> ProcessesUsing(string stateDirectory)
    {
        var found = new List<string>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ');
                var environment = File.ReadAllText(Path.Combine(entry, "environ"));
                // Redis rewrites its command line and environment (process title); its working folder gives it away.
                var workingFolder = File.ResolveLinkTarget(Path.Combine(entry, "cwd"), returnFinalTarget: false)?.FullName ?? "";
                if (commandLine.Contains(stateDirectory, StringComparison.Ordinal)
                    || environment.Contains(stateDirectory, StringComparison.Ordinal)
                    || workingFolder.StartsWith(stateDirectory, StringComparison.Ordinal))
                {
                    found.Add($"{pid}: {commandLine.Trim()}");
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }

        return found;
    }
}
