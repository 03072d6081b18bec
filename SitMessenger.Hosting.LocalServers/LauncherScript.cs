using System.Text;

namespace SitMessenger.Hosting.LocalServers;

/// <summary>
/// The small shell script DCP runs for a local server. It exists for two reasons DCP cannot cover: the server must run
/// as its own account when we are root (setpriv, which execs, so signals reach the server itself); DCP stops a process
/// with SIGTERM, which some servers take as a slow shutdown (PostgreSQL's "smart" mode waits for every pooled client
/// connection to close), so the stop signal is translated.
/// </summary>
internal sealed record LauncherScript(string Binary, IReadOnlyList<string> Arguments)
{
    /// <summary>Account to run as when the AppHost runs as root; null runs as whoever we are.</summary>
    public string? Account { get; init; }

    /// <summary>Signal (as kill names it: INT, TERM) the server gets when DCP asks it to stop.</summary>
    public string StopSignal { get; init; } = "TERM";

    public string Render()
    {
        var command = new StringBuilder();
        if (Account is not null && ServiceAccounts.IsRoot)
        {
            command.Append(Quote("setpriv")).Append(" --reuid=").Append(Quote(Account)).Append(" --regid=").Append(Quote(Account))
                .Append(" --init-groups -- ");
        }

        command.Append(Quote(Binary));
        foreach (var argument in Arguments)
        {
            command.Append(' ').Append(Quote(argument));
        }

        // The trap is set before the server starts, so a stop that arrives at once is not lost: it is passed on as soon
        // as the server's pid is known.
        return $"""
            #!/bin/sh
            # Written by the AppHost before every start; see LauncherScript.cs for why it exists.
            child=
            stop=
            trap 'stop=1; [ -n "$child" ] && kill -{StopSignal} "$child" 2>/dev/null' TERM INT
            {command} &
            child=$!
            [ -n "$stop" ] && kill -{StopSignal} "$child" 2>/dev/null
            # wait returns early (128 + the signal) when a trapped signal arrives; keep waiting until the server has
            # really exited. The shell may reap it in between, so its status is asked for once more at the end: wait
            # on a child that has ended answers its exit status however often it is asked.
            while kill -0 "$child" 2>/dev/null; do wait "$child"; done
            wait "$child"
            exit $?

            """;
    }

    public async Task<string> WriteAsync(string folder, CancellationToken cancellationToken)
    {
        var path = Path.Combine(folder, "run.sh");
        await File.WriteAllTextAsync(path, Render(), cancellationToken);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    /// <summary>Single-quotes a word for sh: nothing inside is expanded.</summary>
    internal static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
