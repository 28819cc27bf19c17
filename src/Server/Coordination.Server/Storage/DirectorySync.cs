using System.Runtime.InteropServices;

namespace Coordination.Server.Storage;

/// <summary>
/// Makes directory entries durable. After a file is created, renamed or deleted, the change lives in
/// the directory, not the file: fsyncing the file does not persist it. On Unix this opens the
/// directory and calls <c>fsync(2)</c> on it (.NET refuses to open directories as files, hence the
/// P/Invoke); on Windows NTFS journals metadata and a directory cannot be flushed this way, so it is
/// a no-op.
/// </summary>
internal static class DirectorySync
{
    private const int ReadOnly = 0; // O_RDONLY

    /// <summary>Flushes the directory <paramref name="path"/> to stable storage.</summary>
    /// <exception cref="IOException">open or fsync of the directory failed.</exception>
    public static void Flush(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        int fd = NativeMethods.open(path, ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{path}' to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (NativeMethods.fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{path}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = NativeMethods.close(fd);
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
    }
}
