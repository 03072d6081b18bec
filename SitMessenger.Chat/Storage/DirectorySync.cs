using System.Runtime.InteropServices;

namespace SitMessenger.Chat.Storage;

/// <summary>
/// fsync for a directory. A rename or a new file is only durable once the folder's own entry list reaches the disk,
/// and .NET cannot open a directory as a FileStream, so this goes to libc.
/// </summary>
internal static partial class DirectorySync
{
    private const int EINTR = 4;
    private const int EINVAL = 22;

    private const int O_RDONLY = 0;
    private const int O_CLOEXEC = 0x80000;

    public static void Flush(string path)
    {
        // Windows journals directory metadata and offers no handle to flush; other Unixes are dev machines only, and
        // their open(2) flag values differ, so guessing them would be worse than skipping.
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        int fd;
        do
        {
            fd = Open(path, O_RDONLY | O_CLOEXEC | DirectoryFlag());
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);

        if (fd < 0)
        {
            throw Failure("open", path);
        }

        try
        {
            int result;
            do
            {
                result = Fsync(fd);
            }
            while (result < 0 && Marshal.GetLastPInvokeError() == EINTR);

            // Some file systems (certain network mounts) cannot sync a directory at all; PostgreSQL tolerates this
            // too, since failing every write there forever would be worse.
            if (result < 0 && Marshal.GetLastPInvokeError() != EINVAL)
            {
                throw Failure("fsync", path);
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    // O_DIRECTORY is not the same bit everywhere: arm, arm64 and powerpc moved it.
    private static int DirectoryFlag() => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.Arm or Architecture.Arm64 or Architecture.Armv6 or Architecture.Ppc64le => 0x4000,
        _ => 0x10000,
    };

    private static IOException Failure(string call, string path)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} of directory '{path}' failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
