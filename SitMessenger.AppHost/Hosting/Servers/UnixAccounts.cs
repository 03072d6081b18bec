namespace SitMessenger.AppHost.Hosting;

/// <summary>Servers that refuse to run as root (PostgreSQL) or expect their own account (RabbitMQ) run under it when we are root.</summary>
internal static class UnixAccounts
{
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>Hands a folder to a service account, and opens the path to it so that account can get there.</summary>
    public static async Task GiveToAsync(string folder, string account, string resourceName, CancellationToken cancellationToken)
    {
        if (!IsRoot)
        {
            return;
        }

        var chown = new System.Diagnostics.ProcessStartInfo("chown") { ArgumentList = { "-R", $"{account}:{account}", folder } };
        await RunContext.RunToCompletionAsync(resourceName, chown, cancellationToken);

        // A temporary state folder is created 0700; the service account needs to traverse the folders above its own.
        for (var parent = Directory.GetParent(folder); parent is not null && parent.FullName != "/"; parent = parent.Parent)
        {
            var mode = File.GetUnixFileMode(parent.FullName);
            if (!mode.HasFlag(UnixFileMode.OtherExecute))
            {
                File.SetUnixFileMode(parent.FullName, mode | UnixFileMode.OtherExecute);
            }
        }
    }
}
