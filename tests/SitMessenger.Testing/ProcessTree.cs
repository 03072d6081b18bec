using System.Globalization;

namespace SitMessenger.Testing;

/// <summary>Parent and child processes, read from /proc.</summary>
public static class ProcessTree
{
    /// <summary>The last process down the first line of descendants of <paramref name="pid"/> (itself when it has none).</summary>
    public static int Deepest(int pid)
    {
        for (var children = Children(pid); children.Count > 0; children = Children(pid))
        {
            pid = children.Min();
        }

        return pid;
    }

    public static IReadOnlyList<int> Children(int pid)
    {
        var children = new List<int>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry), out var candidate) && ParentOf(candidate) == pid)
            {
                children.Add(candidate);
            }
        }

        return children;
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            // "pid (name) state ppid ...": the name may hold spaces, so read after the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }
}
