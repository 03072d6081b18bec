using System.Diagnostics;

namespace SitMessenger.SystemTests.Faults;

/// <summary>
/// A tmpfs of a fixed size mounted for one test (the tests run as root), which the test can fill to the last byte and
/// free again: a full disk under the state folder without filling the machine's own.
/// </summary>
internal sealed class SmallDisk : IDisposable
{
    private const int Chunk = 1 << 20;
    private readonly string _filler;

    private SmallDisk(string path)
    {
        Path = path;
        _filler = System.IO.Path.Combine(path, "filler.bin");
    }

    public string Path { get; }

    public static SmallDisk Mount(int megabytes)
    {
        var path = Directory.CreateTempSubdirectory("sit-small-disk-").FullName;
        Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m,mode=0755", "tmpfs", path);
        return new SmallDisk(path);
    }

    public long FreeBytes => new DriveInfo(Path).AvailableFreeSpace;

    /// <summary>Writes one file until the disk refuses another byte.</summary>
    public void Fill()
    {
        using var file = new FileStream(_filler, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1, FileOptions.None);
        var block = new byte[Chunk];
        foreach (var size in new[] { Chunk, 4096, 1 })
        {
            try
            {
                while (true)
                {
                    file.Write(block, 0, size);
                }
            }
            catch (IOException)
            {
                // Full at this granularity: go on with smaller writes to take the last bytes too.
            }
        }
    }

    public void Free() => File.Delete(_filler);

    public void Dispose()
    {
        // Processes that outlived their system would keep the mount busy: a lazy unmount frees it when they end.
        Run("umount", "--lazy", Path);
        Directory.Delete(Path);
    }

    private static void Run(string command, params string[] arguments)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{command} {string.Join(' ', arguments)} failed ({process.ExitCode}): {error.Trim()}. The disk tests mount a tmpfs and need root.");
        }
    }
}
