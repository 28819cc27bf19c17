using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Coordination.Server.Storage;

/// <summary>
/// Flushes a file's data, and only the metadata needed to read it back, with <c>fdatasync(2)</c> on
/// Linux (etcd's WAL does the same). <see cref="RandomAccess.FlushToDisk"/> calls <c>fsync(2)</c>,
/// which also persists the modification time that every write changes; on ext4 that makes each sync
/// commit the file system's journal, and a journal commit first writes out other files' freshly
/// allocated data, such as a snapshot image being written. Under a 64-client load somewhat fewer log
/// syncs took over 1.5 ms with <c>fdatasync</c> (75 and 73 against 101 and 81 in 2 runs each,
/// docs/benchmarks.md); on busy cores a sync's time is mostly waiting for one. Writes that change
/// the file's size or allocation are still persisted by <c>fdatasync</c>; the log's segments are
/// preallocated anyway. Elsewhere this falls back to <see cref="RandomAccess.FlushToDisk"/>.
/// </summary>
internal static class FileDataSync
{
    private const int Interrupted = 4; // EINTR

    /// <summary>Makes the data written to <paramref name="handle"/> durable.</summary>
    /// <exception cref="IOException">The flush failed; what was written may not be on disk.</exception>
    public static void Flush(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
        {
            RandomAccess.FlushToDisk(handle);
            return;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var fd = (int)handle.DangerousGetHandle();
            int errno;
            do
            {
                if (NativeMethods.fdatasync(fd) == 0) return;
                errno = Marshal.GetLastPInvokeError();
            }
            while (errno == Interrupted);
            throw new IOException($"fdatasync failed (errno {errno}).");
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int fdatasync(int fd);
    }
}
