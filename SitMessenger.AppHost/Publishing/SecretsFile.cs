using System.Security.Cryptography;
using System.Text;

namespace SitMessenger.AppHost.Publishing;

/// <summary>
/// The env file that holds the model's secret parameters for a deployment (Compose's .env, the Kubernetes
/// secretGenerator's input). Written only when absent, so generating again never changes a deployment's passwords; it is
/// git-ignored, and an example with the names and no values is committed instead.
/// </summary>
internal static class SecretsFile
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>Writes the file if it is missing, and adds any secret the model gained since; returns whether it changed.</summary>
    public static bool Ensure(string path, IReadOnlyList<DeployedSecret> secrets)
    {
        var existing = File.Exists(path) ? File.ReadAllLines(path) : [];
        var known = existing.Where(line => line.Contains('=', StringComparison.Ordinal) && !line.StartsWith('#'))
            .Select(line => line[..line.IndexOf('=', StringComparison.Ordinal)])
            .ToHashSet(StringComparer.Ordinal);
        var missing = secrets.Where(secret => !known.Contains(secret.Variable)).ToList();
        if (missing.Count == 0)
        {
            return false;
        }

        var text = new StringBuilder();
        if (existing.Length == 0)
        {
            text.Append("# Generated secrets: keep this file out of version control and back it up with the data.\n");
        }

        foreach (var secret in missing)
        {
            text.Append(secret.Variable).Append('=').Append(RandomNumberGenerator.GetString(Alphabet, secret.Length)).Append('\n');
        }

        File.AppendAllText(path, text.ToString());
        // Only its owner reads it.
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return true;
    }

    public static string Example(IReadOnlyList<DeployedSecret> secrets) =>
        "# The secrets a deployment needs; the AppHost writes the real file with random values when it is absent.\n"
        + string.Concat(secrets.Select(secret => $"{secret.Variable}=\n"));
}
