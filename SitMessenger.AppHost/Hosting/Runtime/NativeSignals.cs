using System.Runtime.InteropServices;

namespace SitMessenger.AppHost.Hosting;

/// <summary>Process.Kill only sends SIGKILL; servers need their own stop signal to shut down cleanly.</summary>
internal static partial class NativeSignals
{
    public static bool Send(int processId, PosixSignal signal) => Kill(processId, ToNative(signal)) == 0;

    private static int ToNative(PosixSignal signal) => signal switch
    {
        PosixSignal.SIGINT => 2,
        PosixSignal.SIGQUIT => 3,
        PosixSignal.SIGTERM => 15,
        _ => throw new ArgumentOutOfRangeException(nameof(signal), signal, "unsupported stop signal"),
    };

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int sig);
}
