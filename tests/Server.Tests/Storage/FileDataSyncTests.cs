using Coordination.Server.Storage;

namespace Coordination.Server.Tests.Storage;

/// <summary>The write-ahead log's flush: <c>fdatasync</c> on Linux, a full flush elsewhere.</summary>
public sealed class FileDataSyncTests
{
    [Fact]
    public void Written_bytes_are_flushed_and_read_back()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "data");
        byte[] data = [1, 2, 3, 4, 5];
        using (var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite))
        {
            RandomAccess.Write(handle, data, 0);
            FileDataSync.Flush(handle);
        }

        Assert.Equal(data, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_file_that_cannot_be_flushed_fails_loudly_rather_than_claim_durability()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "fdatasync is used on Linux only");
        // A character device has no data to flush: fdatasync answers EINVAL, which a log must not ignore.
        using var handle = File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Write);

        var error = Assert.Throws<IOException>(() => FileDataSync.Flush(handle));
        Assert.Contains("errno 22", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_closed_handle_is_refused()
    {
        using var dir = new TempDirectory();
        var handle = File.OpenHandle(Path.Combine(dir.Path, "data"), FileMode.CreateNew, FileAccess.ReadWrite);
        handle.Dispose();

        Assert.Throws<ObjectDisposedException>(() => FileDataSync.Flush(handle));
    }
}
