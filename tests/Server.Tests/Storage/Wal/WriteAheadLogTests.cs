using Coordination.Raft.Protocol;
using Coordination.Server.Storage.Wal;

namespace Coordination.Server.Tests.Storage.Wal;

public class WriteAheadLogTests
{
    private static readonly WalOptions Small = new() { SegmentSizeBytes = 4096, PreallocateSegments = false };

    [Fact]
    public void OpenOnAMissingDirectoryCreatesTheFirstSegment()
    {
        using var dir = new TempDirectory();
        string walDir = dir.Sub("wal");
        using (var wal = WriteAheadLog.Open(walDir, new WalOptions(), new ListLogger(), out WalReplay replay))
        {
            Assert.Null(replay.HardState);
            Assert.Null(replay.Snapshot);
            Assert.Empty(replay.Entries);
        }

        string[] segments = Directory.GetFiles(walDir, "*.wal").Select(Path.GetFileName).ToArray()!;
        Assert.Equal(["0000000000000000-0000000000000001.wal"], segments);
        // The only temporary file is the next segment, prepared ahead of need.
        Assert.Equal([SegmentPreparer.FileName], Directory.GetFiles(walDir, "*.tmp").Select(Path.GetFileName).ToArray());
    }

    [Fact]
    public void EntriesAndHardStateRoundTripAcrossReopen()
    {
        using var dir = new TempDirectory();
        var logger = new ListLogger();
        List<Entry> entries = Entries.Range(1, 50, 2);
        var hardState = new HardState { Term = 3, Vote = 2, Commit = 40 };
        using (var wal = WriteAheadLog.Open(dir.Path, new WalOptions(), logger, out _))
        {
            wal.Append(null, entries.GetRange(0, 20));
            wal.Append(hardState, entries.GetRange(20, 30));
            wal.Sync();
        }

        using (var wal = WriteAheadLog.Open(dir.Path, new WalOptions(), logger, out WalReplay replay))
        {
            Assert.Equal(entries, replay.Entries);
            Assert.Equal(hardState, replay.HardState);
            Assert.Equal(0, replay.DiscardedTailBytes);
            Assert.Equal(50ul, wal.LastIndex);

            // The checksum chain continues after a reopen.
            wal.Append(new HardState { Term = 4, Vote = 1, Commit = 55 }, Entries.Range(51, 60, 4));
            wal.Sync();
        }

        using (WriteAheadLog.Open(dir.Path, new WalOptions(), logger, out WalReplay replay))
        {
            Assert.Equal(entries.Concat(Entries.Range(51, 60, 4)), replay.Entries);
            Assert.Equal(new HardState { Term = 4, Vote = 1, Commit = 55 }, replay.HardState);
        }

        Assert.Equal(0, logger.Warnings);
    }

    [Fact]
    public void ManyAppendsAreBufferedUntilOneSyncWritesAndFsyncsThem()
    {
        using var dir = new TempDirectory();
        string crashImage = dir.Sub("crash-image");
        // Growing segments, so the file's length shows what was written.
        using var wal = WriteAheadLog.Open(dir.Sub("wal"), new WalOptions { PreallocateSegments = false }, new ListLogger(), out _);
        string tail = wal.SegmentPaths[^1];
        long lengthBefore = new FileInfo(tail).Length;
        long syncsBefore = wal.SyncCount;

        for (ulong i = 1; i <= 100; i++)
        {
            wal.Append(new HardState { Term = 1, Commit = i - 1 }, [Entries.Make(i, 1, 300)]);
        }

        Assert.Equal(lengthBefore, new FileInfo(tail).Length);
        Assert.Equal(syncsBefore, wal.SyncCount);
        Assert.Empty(ReplayCopy(wal.Directory, crashImage + "-1").Entries);

        wal.Sync();

        Assert.Equal(syncsBefore + 1, wal.SyncCount);
        Assert.True(new FileInfo(tail).Length > lengthBefore + (100 * 300));
        WalReplay afterSync = ReplayCopy(wal.Directory, crashImage + "-2");
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (ulong)i), afterSync.Entries.Select(e => e.Index));
        Assert.Equal(99ul, afterSync.HardState!.Commit);

        wal.Sync(); // nothing new: no fsync
        Assert.Equal(syncsBefore + 1, wal.SyncCount);
    }

    [Fact]
    public void LargeBatchesAreWrittenOnceTheBufferFillsButStayUnsynced()
    {
        using var dir = new TempDirectory();
        using var wal = WriteAheadLog.Open(dir.Path, new WalOptions { WriteBufferBytes = 4096, PreallocateSegments = false }, new ListLogger(), out _);
        long syncs = wal.SyncCount;
        long before = new FileInfo(wal.SegmentPaths[^1]).Length;
        wal.Append(null, Entries.Range(1, 20, 1, 300));
        Assert.True(new FileInfo(wal.SegmentPaths[^1]).Length > before);
        Assert.Equal(syncs, wal.SyncCount);
    }

    [Fact]
    public void DisposeWritesAndSyncsWhatIsBuffered()
    {
        using var dir = new TempDirectory();
        using (var wal = WriteAheadLog.Open(dir.Path, new WalOptions(), new ListLogger(), out _))
        {
            wal.Append(new HardState { Term = 1 }, Entries.Range(1, 3, 1));
        }

        using (WriteAheadLog.Open(dir.Path, new WalOptions(), new ListLogger(), out WalReplay replay))
        {
            Assert.Equal(Entries.Range(1, 3, 1), replay.Entries);
        }
    }

    [Fact]
    public void SegmentsAreCutPastTheThresholdAndReplayedInOrder()
    {
        using var dir = new TempDirectory();
        List<Entry> entries = Entries.Range(1, 200, 1, 200);
        using (var wal = WriteAheadLog.Open(dir.Path, Small, new ListLogger(), out _))
        {
            for (int i = 0; i < entries.Count; i += 10)
            {
                wal.Append(new HardState { Term = 1, Commit = (ulong)i }, entries.GetRange(i, 10));
                wal.Sync();
            }

            Assert.True(wal.SegmentPaths.Count >= 5, $"only {wal.SegmentPaths.Count} segments");
        }

        string[] names = Directory.GetFiles(dir.Path, "*.wal").Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToArray();
        for (int i = 0; i < names.Length; i++)
        {
            Assert.True(WalSegment.TryParseName(names[i], out ulong sequence, out ulong firstIndex));
            Assert.Equal((ulong)i, sequence);
            Assert.Equal(1ul, firstIndex % 10); // cuts happen at batch starts: 1, 11, 21, ...
            Assert.True(new FileInfo(Path.Combine(dir.Path, names[i])).Length < Small.SegmentSizeBytes + (10 * 250));
        }

        using (WriteAheadLog.Open(dir.Path, Small, new ListLogger(), out WalReplay replay))
        {
            Assert.Equal(entries, replay.Entries);
            Assert.Equal(190ul, replay.HardState!.Commit);
        }
    }

    [Fact]
    public void AnOverwrittenUncommittedTailIsReplacedOnReplay()
    {
        using var dir = new TempDirectory();
        using (var wal = WriteAheadLog.Open(dir.Path, new WalOptions(), new ListLogger(), out _))
        {
            wal.Append(null, Entries.Range(1, 10, 1));
            wal.Sync();
            wal.Append(new HardState { Term = 2, Commit = 5 }, Entries.Range(6, 8, 2));
            wal.Sync();
        }

        using (WriteAheadLog.Open(dir.Path, new WalOptions(), new ListLogger(), out WalReplay replay))
        {
            Assert.Equal(Entries.Range(1, 5, 1).Concat(Entries.Range(6, 8, 2)), replay.Entries);
        }
    }

    [Fact]
    public void AnOverwriteInALaterSegmentReplacesEntriesOfEarlierOnes()
    {
        using var dir = new TempDirectory();
        using (var wal = WriteAheadLog.Open(dir.Path, Small, new ListLogger(), out _))
        {
            foreach (Entry e in Entries.Range(1, 60, 1, 200))
            {
                wal.Append(null, [e]);
            }

            wal.Sync();
            int segmentsBefore = wal.SegmentPaths.Count;
            wal.Append(null, Entries.Range(12, 14, 3, 200));
            wal.Sync();
            Assert.True(segmentsBefore >= 3);
        }

        using (WriteAheadLog.Open(dir.Path, Small, new ListLogger(), out WalReplay replay))
        {
            Assert.Equal(Entries.Range(1, 11, 1, 200).Concat(Entries.Range(12, 14, 3, 200)), replay.Entries);
        }
    }

    [Fact]
    public void ReplayStartsAfterTheNewestSnapshotMarkerOrAfterTheGivenSnapshot()
    {
        using var dir = new TempDirectory();
        var marker = new SnapshotMetadata { Index = 10, Term = 1, ConfState = new ConfState { Voters = { 1, 2, 3 } } };
        using (var wal = WriteAheadLog.Open(dir.Path, new WalOptions(), new ListLogger(), out _))
        {
            wal.Append(null, Entries.Range(1, 20, 1));
            wal.SaveSnapshotMarker(new SnapshotMetadata { Index = 4, Term = 1 });
            wal.SaveSnapshotMarker(marker);
            wal.Append(null, Entries.Range(21, 25, 1));
            wal.Sync();
        }

        using (WriteAheadLog.Open(dir.Path, new WalOptions(), new ListLogger(), out WalReplay replay))
        {
            Assert.Equal(marker, replay.Snapshot);
            Assert.Equal(Entries.Range(11, 25, 1), replay.Entries);
        }

        using (WriteAheadLog.Open(dir.Path, new WalOptions(), new ListLogger(), new WalReplayStart(5, 1), out WalReplay replay))
        {
            Assert.Equal(Entries.Range(6, 25, 1), replay.Entries);
        }
    }

    [Fact]
    public void ReplayFromASnapshotTheLogNoLongerReachesIsRefused()
    {
        using var dir = new TempDirectory();
        using (var wal = WriteAheadLog.Open(dir.Path, new WalOptions(), new ListLogger(), new WalReplayStart(100, 5), out _))
        {
            wal.Append(null, Entries.Range(101, 110, 5));
        }

        var e = Assert.Throws<WalCorruptedException>(() =>
            WriteAheadLog.Open(dir.Path, new WalOptions(), new ListLogger(), new WalReplayStart(50, 3), out _));
        Assert.Contains("expected index 51", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReleaseToDeletesOnlySegmentsCoveredByASnapshotMarker()
    {
        using var dir = new TempDirectory();
        var hardState = new HardState { Term = 1, Vote = 1, Commit = 1 };
        using (var wal = WriteAheadLog.Open(dir.Path, Small, new ListLogger(), out _))
        {
            wal.Append(hardState, []);
            foreach (Entry e in Entries.Range(1, 60, 1, 200))
            {
                wal.Append(null, [e]);
            }

            wal.Sync();
            int before = wal.SegmentPaths.Count;

            // No snapshot marker yet: nothing may go.
            Assert.Equal(0, wal.ReleaseTo(60));
            Assert.Equal(before, wal.SegmentPaths.Count);

            wal.SaveSnapshotMarker(new SnapshotMetadata { Index = 50, Term = 1 });
            foreach (Entry e in Entries.Range(61, 100, 1, 200))
            {
                wal.Append(null, [e]);
            }

            wal.Sync();

            // The only marker is above 40: nothing may go.
            Assert.Equal(0, wal.ReleaseTo(40));

            // Bounded by the marker at 50 even when asked for more.
            int deleted = wal.ReleaseTo(1000);
            Assert.True(deleted > 0);
            Assert.Equal(0, wal.ReleaseTo(1000));

            IReadOnlyList<string> remaining = wal.SegmentPaths;
            Assert.True(WalSegment.TryParseName(Path.GetFileName(remaining[0]), out _, out ulong firstKept));
            Assert.True(WalSegment.TryParseName(Path.GetFileName(remaining[1]), out _, out ulong secondKept));
            Assert.True(firstKept <= 51, $"the first kept segment starts at {firstKept}, entry 51 is lost");
            Assert.True(secondKept > 51, "a segment holding only entries up to 50 was kept");
            Assert.Equal(remaining.Count, Directory.GetFiles(dir.Path, "*.wal").Length);
        }

        using (WriteAheadLog.Open(dir.Path, Small, new ListLogger(), out WalReplay replay))
        {
            Assert.Equal(50ul, replay.Snapshot!.Index);
            Assert.Equal(Entries.Range(51, 100, 1, 200), replay.Entries);
            Assert.Equal(hardState, replay.HardState); // carried into each new segment
        }
    }

    [Fact]
    public void ASecondOpenOfTheSameDirectoryFailsWhileTheFirstIsOpen()
    {
        using var dir = new TempDirectory();
        using (WriteAheadLog.Open(dir.Path, new WalOptions(), new ListLogger(), out _))
        {
            Assert.ThrowsAny<IOException>(() => WriteAheadLog.Open(dir.Path, new WalOptions(), new ListLogger(), out _));
        }

        using (WriteAheadLog.Open(dir.Path, new WalOptions(), new ListLogger(), out _))
        {
        }
    }

    [Fact]
    public void AMissingMiddleSegmentIsCorruption()
    {
        using var dir = new TempDirectory();
        string missing;
        using (var wal = WriteAheadLog.Open(dir.Path, Small, new ListLogger(), out _))
        {
            foreach (Entry e in Entries.Range(1, 60, 1, 200))
            {
                wal.Append(null, [e]);
            }

            wal.Sync();
            missing = wal.SegmentPaths[1];
        }

        File.Delete(missing);
        var ex = Assert.Throws<WalCorruptedException>(() => WriteAheadLog.Open(dir.Path, Small, new ListLogger(), out _));
        Assert.Contains("missing", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Replays a copy of the directory as it is on disk now, as a crash would leave it.</summary>
    private static WalReplay ReplayCopy(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (string file in Directory.GetFiles(source, "*.wal"))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        using (WriteAheadLog.Open(target, new WalOptions(), new ListLogger(), out WalReplay replay))
        {
            return replay;
        }
    }
}
