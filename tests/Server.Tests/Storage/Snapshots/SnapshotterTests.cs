using Coordination.Raft.Protocol;
using Coordination.Server.Storage.Snapshots;

namespace Coordination.Server.Tests.Storage.Snapshots;

public class SnapshotterTests
{
    private static SnapshotMetadata Meta(ulong term, ulong index) =>
        new() { Term = term, Index = index, ConfState = new ConfState { Voters = { 1, 2, 3 }, Learners = { 4 } } };

    private static byte[] Image(int length, int seed)
    {
        byte[] image = new byte[length];
        new Random(seed).NextBytes(image);
        return image;
    }

    [Fact]
    public void AStreamedImageRoundTripsWithItsMetadata()
    {
        using var dir = new TempDirectory();
        var snapshotter = new Snapshotter(dir.Sub("snap"), new ListLogger());
        byte[] image = Image((3 * 1024 * 1024) + 17, 1);
        string path = snapshotter.Save(Meta(2, 100), new MemoryStream(image));

        Assert.Equal(Path.Combine(dir.Sub("snap"), "0000000000000002-0000000000000064.snap"), path);
        Assert.Empty(Directory.GetFiles(dir.Sub("snap"), "*.tmp"));
        Assert.True(snapshotter.TryLoadNewest(out SnapshotFile? loaded));
        Assert.Equal(Meta(2, 100), loaded.Metadata);
        Assert.Equal(image.Length, loaded.ImageLength);
        Assert.Equal(image, loaded.ReadImage());

        using Stream stream = loaded.OpenImage();
        Assert.Equal(image.Length, stream.Length);
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        Assert.Equal(image, copy.ToArray());
    }

    [Fact]
    public void AnImageWrittenStraightIntoTheFileRoundTripsAcrossItsIntermediateFlushes()
    {
        using var dir = new TempDirectory();
        var snapshotter = new Snapshotter(dir.Path, new ListLogger());
        // Over twice the 4 MiB flush step, in uneven writes, so that flushes fall inside writes.
        byte[] image = Image((9 * 1024 * 1024) + 5, 3);
        snapshotter.Save(Meta(3, 7), (Action<Stream>)(sink =>
        {
            for (var offset = 0; offset < image.Length; offset += 100_003)
                sink.Write(image, offset, Math.Min(100_003, image.Length - offset));
        }));

        Assert.True(snapshotter.TryLoadNewest(out SnapshotFile? loaded));
        Assert.Equal(Meta(3, 7), loaded.Metadata);
        Assert.Equal(image, loaded.ReadImage());
    }

    [Fact]
    public void APacedImageRestsBetweenItsChunksAndStillRoundTrips()
    {
        using var dir = new TempDirectory();
        var snapshotter = new Snapshotter(dir.Path, new ListLogger());
        // Each chunk "takes" 1 ms on this clock, so a 2 ms slice ends every other chunk.
        var time = new SteppingTimeProvider(TimeSpan.FromMilliseconds(1));
        var rests = new List<TimeSpan>();
        var pacer = new WritePacer(time, TimeSpan.FromMilliseconds(2), 0.5, rests.Add);
        byte[] image = Image((1024 * 1024) + 3, 4);
        // Small writes, as the image writers make: the file gets them in 64 KiB chunks.
        snapshotter.Save(Meta(4, 9), (Action<Stream>)(sink =>
        {
            for (var offset = 0; offset < image.Length; offset += 4096)
                sink.Write(image, offset, Math.Min(4096, image.Length - offset));
        }), pacer);

        // 1 MiB and 3 bytes in 64 KiB chunks: 17 chunks, a rest after every second one.
        Assert.InRange(rests.Count, 8, 9);
        Assert.All(rests, r => Assert.Equal(TimeSpan.FromMilliseconds(2), r));
        Assert.True(snapshotter.TryLoadNewest(out SnapshotFile? loaded));
        Assert.Equal(image, loaded.ReadImage());
    }

    /// <summary>A clock that moves on by a fixed step each time it is read.</summary>
    private sealed class SteppingTimeProvider(TimeSpan step) : TimeProvider
    {
        private long _now;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _now += step.Ticks;
    }

    [Fact]
    public void AnInMemoryImageAndAnEmptyImageRoundTrip()
    {
        using var dir = new TempDirectory();
        var snapshotter = new Snapshotter(dir.Path, new ListLogger());
        snapshotter.Save(Meta(1, 5), ReadOnlyMemory<byte>.Empty);
        Assert.True(snapshotter.TryLoadNewest(out SnapshotFile? empty));
        Assert.Empty(empty.ReadImage());

        byte[] image = Image(1000, 2);
        snapshotter.Save(Meta(1, 6), image);
        Assert.True(snapshotter.TryLoadNewest(out SnapshotFile? loaded));
        Assert.Equal(6ul, loaded.Metadata.Index);
        Assert.Equal(image, loaded.ReadImage());
    }

    [Fact]
    public void TheNewestIsTheHighestIndex()
    {
        using var dir = new TempDirectory();
        var snapshotter = new Snapshotter(dir.Path, new ListLogger());
        snapshotter.Save(Meta(1, 10), Image(10, 1));
        snapshotter.Save(Meta(3, 20), Image(20, 2));
        snapshotter.Save(Meta(2, 15), Image(15, 3));
        Assert.True(snapshotter.TryLoadNewest(out SnapshotFile? loaded));
        Assert.Equal(Meta(3, 20), loaded.Metadata);
        Assert.Equal(Image(20, 2), loaded.ReadImage());
    }

    [Fact]
    public void AnEmptyDirectoryHasNoSnapshot()
    {
        using var dir = new TempDirectory();
        Assert.False(new Snapshotter(dir.Path, new ListLogger()).TryLoadNewest(out SnapshotFile? loaded));
        Assert.Null(loaded);
    }

    [Theory]
    [InlineData("flip-image")]
    [InlineData("flip-metadata")]
    [InlineData("flip-trailer")]
    [InlineData("truncate")]
    [InlineData("append")]
    public void ACorruptNewestIsSkippedLoggedAndRenamedBroken(string damage)
    {
        using var dir = new TempDirectory();
        var logger = new ListLogger();
        var snapshotter = new Snapshotter(dir.Path, logger);
        snapshotter.Save(Meta(1, 10), Image(5000, 1));
        string newest = snapshotter.Save(Meta(1, 20), Image(5000, 2));

        byte[] bytes = File.ReadAllBytes(newest);
        switch (damage)
        {
            case "flip-image": bytes[2500] ^= 0x10; break;
            case "flip-metadata": bytes[14] ^= 0x01; break;
            case "flip-trailer": bytes[^9] ^= 0x01; break;
            case "truncate": bytes = bytes[..^1]; break;
            case "append": bytes = [.. bytes, 0]; break;
        }

        File.WriteAllBytes(newest, bytes);

        Assert.True(snapshotter.TryLoadNewest(out SnapshotFile? loaded));
        Assert.Equal(10ul, loaded.Metadata.Index);
        Assert.Equal(Image(5000, 1), loaded.ReadImage());
        Assert.False(File.Exists(newest));
        Assert.True(File.Exists(newest + Snapshotter.BrokenSuffix));
        Assert.Equal(1, logger.Warnings);
    }

    [Fact]
    public void AFileWhoseNameDisagreesWithItsMetadataIsSkipped()
    {
        using var dir = new TempDirectory();
        var snapshotter = new Snapshotter(dir.Path, new ListLogger());
        snapshotter.Save(Meta(1, 10), Image(100, 1));
        string other = snapshotter.Save(Meta(1, 11), Image(100, 2));
        File.Move(other, Path.Combine(dir.Path, Snapshotter.FileName(1, 12)));

        Assert.True(snapshotter.TryLoadNewest(out SnapshotFile? loaded));
        Assert.Equal(10ul, loaded.Metadata.Index);
    }

    [Fact]
    public void PurgeKeepsTheNewestAndDeletesTheRest()
    {
        using var dir = new TempDirectory();
        var snapshotter = new Snapshotter(dir.Path, new ListLogger());
        for (ulong i = 1; i <= 5; i++)
        {
            snapshotter.Save(Meta(1, i * 10), Image(100, (int)i));
        }

        File.WriteAllBytes(Path.Combine(dir.Path, Snapshotter.FileName(1, 60) + ".tmp"), [1]);

        Assert.Equal(3, snapshotter.Purge(2));
        Assert.Equal(
            [Snapshotter.FileName(1, 40), Snapshotter.FileName(1, 50)],
            Directory.GetFiles(dir.Path).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal));
        Assert.Equal(0, snapshotter.Purge(2));
        Assert.True(snapshotter.TryLoadNewest(out SnapshotFile? loaded));
        Assert.Equal(50ul, loaded.Metadata.Index);
    }
}
