namespace SitMessenger.Hosting.LocalServers;

/// <summary>
/// The servers' folders in the state folder hold their data, configuration with passwords and logs: 0700, like the
/// secrets, whatever the umask. A folder made before this rule loses its group and other bits too.
/// </summary>
internal static class OwnerOnlyFolders
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static void Create(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }

        Directory.CreateDirectory(path, OwnerOnly);
        if (File.GetUnixFileMode(path) != OwnerOnly)
        {
            File.SetUnixFileMode(path, OwnerOnly);
        }
    }
}
