using Coordination.Raft.Protocol;
using Coordination.Server.Storage.Wal;

namespace Coordination.Server.Tests.Storage.Wal;

/// <summary>Torn tails are cut away; damage anywhere else stops the open.</summary>
public class WalRecoveryTests
{
    private static readonly WalOptions Options = new() { PreallocateSegments = false };
    private static readonly WalOptions Small = new() { SegmentSizeBytes = 4096, PreallocateSegments = false };

    [Fact]
    public void ATailTornAtAnyByteOfTheLastRecordLosesOnlyThatRecord()
    {
        using var dir = new TempDirectory();
        (string tail, long[] ends) = WriteTenSyncedEntries(dir.Path);
        byte[] original = File.ReadAllBytes(tail);
        long lastStart = ends[8];
        Assert.Equal(original.Length, ends[9]);

        for (long cut = lastStart; cut < original.Length; cut++)
        {
            File.WriteAllBytes(tail, original.AsSpan(0, (int)cut).ToArray());
            var logger = new ListLogger();
            using (var wal = WriteAheadLog.Open(dir.Path, Options, logger, out WalReplay replay))
            {
                Assert.Equal(Entries.Range(1, 9, 1), replay.Entries);
                Assert.Equal(cut - lastStart, replay.DiscardedTailBytes);
                Assert.Equal(cut == lastStart ? 0 : 1, logger.Warnings);
                Assert.Equal(lastStart, new FileInfo(tail).Length);

                // The repaired log takes appends and replays them.
                wal.Append(null, [Entries.Make(10, 2)]);
            }

            using (WriteAheadLog.Open(dir.Path, Options, logger, out WalReplay again))
            {
                Assert.Equal(Entries.Range(1, 9, 1).Append(Entries.Make(10, 2)), again.Entries);
            }
        }
    }

    [Fact]
    public void AFlippedByteAnywhereInTheLastRecordTruncatesIt()
    {
        using var dir = new TempDirectory();
        (string tail, long[] ends) = WriteTenSyncedEntries(dir.Path);
        byte[] original = File.ReadAllBytes(tail);
        for (long position = ends[8]; position < original.Length; position++)
        {
            byte[] damaged = (byte[])original.Clone();
            damaged[position] ^= 0xFF;
            File.WriteAllBytes(tail, damaged);
            var logger = new ListLogger();
            using (WriteAheadLog.Open(dir.Path, Options, logger, out WalReplay replay))
            {
                Assert.Equal(Entries.Range(1, 9, 1), replay.Entries);
                Assert.Equal(1, logger.Warnings);
            }

            Assert.Equal(ends[8], new FileInfo(tail).Length);
        }
    }

    [Fact]
    public void AFlippedByteAnywhereInAMiddleRecordIsCorruptionNamingFileAndOffset()
    {
        using var dir = new TempDirectory();
        (string tail, long[] ends) = WriteTenSyncedEntries(dir.Path);
        byte[] original = File.ReadAllBytes(tail);
        long recordStart = ends[3]; // entry 5
        for (long position = recordStart; position < ends[4]; position++)
        {
            byte[] damaged = (byte[])original.Clone();
            damaged[position] ^= 0xFF;
            File.WriteAllBytes(tail, damaged);
            var e = Assert.Throws<WalCorruptedException>(() => WriteAheadLog.Open(dir.Path, Options, new ListLogger(), out _));
            Assert.Equal(recordStart, e.Offset);
            Assert.Equal(tail, e.FilePath);
            Assert.Contains(tail, e.Message, StringComparison.Ordinal);
            Assert.Contains($"offset {recordStart}", e.Message, StringComparison.Ordinal);

            // Nothing was repaired: the file is untouched.
            Assert.Equal(damaged, File.ReadAllBytes(tail));
        }
    }

    [Fact]
    public void ADamagedLastRecordOfAnEarlierSegmentIsCorruption()
    {
        using var dir = new TempDirectory();
        string first;
        using (var wal = WriteAheadLog.Open(dir.Path, Small, new ListLogger(), out _))
        {
            foreach (Entry e in Entries.Range(1, 60, 1, 200))
            {
                wal.Append(null, [e]);
            }

            first = wal.SegmentPaths[0];
            Assert.True(wal.SegmentPaths.Count >= 2);
        }

        long length = new FileInfo(first).Length;
        using (var stream = new FileStream(first, FileMode.Open))
        {
            stream.SetLength(length - 1); // as if torn
        }

        var ex = Assert.Throws<WalCorruptedException>(() => WriteAheadLog.Open(dir.Path, Small, new ListLogger(), out _));
        Assert.Equal(first, ex.FilePath);
        Assert.Contains("not the last", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ZeroedSpaceAfterTheLastRecordIsUnusedSpaceNotATornTail()
    {
        using var dir = new TempDirectory();
        (string tail, long[] ends) = WriteTenSyncedEntries(dir.Path);
        using (var stream = new FileStream(tail, FileMode.Append))
        {
            stream.Write(new byte[8192]);
        }

        var logger = new ListLogger();
        using (var wal = WriteAheadLog.Open(dir.Path, Options, logger, out WalReplay replay))
        {
            Assert.Equal(Entries.Range(1, 9, 1).Append(Entries.Make(10, 1)), replay.Entries);
            Assert.Equal(0, replay.DiscardedTailBytes);
            Assert.Equal(0, logger.Warnings);
            Assert.Equal(ends[9] + 8192, new FileInfo(tail).Length);

            // Appends go on into the zeros, where the records ended.
            wal.Append(null, [Entries.Make(11, 1)]);
            wal.Sync();
        }

        Assert.Equal(ends[9] + 8192, new FileInfo(tail).Length);
        using (WriteAheadLog.Open(dir.Path, Options, logger, out WalReplay replay))
        {
            Assert.Equal(Entries.Range(1, 9, 1).Append(Entries.Make(10, 1)).Append(Entries.Make(11, 1)), replay.Entries);
        }
    }

    [Fact]
    public void ANeverWrittenSectorInTheLastBatchIsATornTailEvenWithValidRecordsAfterIt()
    {
        using var dir = new TempDirectory();
        string tail;
        long batchStart;
        long batchEnd;
        using (var wal = WriteAheadLog.Open(dir.Path, Options, new ListLogger(), out _))
        {
            tail = wal.SegmentPaths[^1];
            wal.Append(null, Entries.Range(1, 3, 1, 2000));
            wal.Sync();
            batchStart = new FileInfo(tail).Length;
            wal.Append(null, Entries.Range(4, 9, 1, 2000));
            wal.Sync();
            batchEnd = new FileInfo(tail).Length;
        }

        // The disk persisted the batch except one sector inside entry 5 (all records have one size).
        long recordSize = (batchEnd - batchStart) / 6;
        long entry5 = batchStart + recordSize;
        int sector = (int)((entry5 + 511) / 512 * 512);
        Assert.True(sector + 512 <= entry5 + recordSize);
        byte[] bytes = File.ReadAllBytes(tail);
        Array.Clear(bytes, sector, 512);
        File.WriteAllBytes(tail, bytes);

        var logger = new ListLogger();
        using (WriteAheadLog.Open(dir.Path, Options, logger, out WalReplay replay))
        {
            Assert.Equal([1ul, 2, 3, 4], replay.Entries.Select(e => e.Index));
            Assert.Equal(batchEnd - entry5, replay.DiscardedTailBytes);
            Assert.Equal(1, logger.Warnings);
        }
    }

    [Fact]
    public void ADamagedRecordFollowedByValidOnesWithoutAZeroSectorIsCorruption()
    {
        // Same shape as above, but one byte flipped instead of a sector lost: bit rot, not a torn write.
        using var dir = new TempDirectory();
        string tail;
        long batchStart;
        long batchEnd;
        using (var wal = WriteAheadLog.Open(dir.Path, Options, new ListLogger(), out _))
        {
            tail = wal.SegmentPaths[^1];
            wal.Append(null, Entries.Range(1, 3, 1, 2000));
            wal.Sync();
            batchStart = new FileInfo(tail).Length;
            wal.Append(null, Entries.Range(4, 9, 1, 2000));
            wal.Sync();
            batchEnd = new FileInfo(tail).Length;
        }

        long entry5 = batchStart + ((batchEnd - batchStart) / 6);
        byte[] bytes = File.ReadAllBytes(tail);
        bytes[entry5 + 700] ^= 0x01;
        File.WriteAllBytes(tail, bytes);

        var e = Assert.Throws<WalCorruptedException>(() => WriteAheadLog.Open(dir.Path, Options, new ListLogger(), out _));
        Assert.Equal(entry5, e.Offset);
    }

    [Fact]
    public void ATailSegmentThatLostItsHeaderIsRewrittenAndTheLogContinues()
    {
        using var dir = new TempDirectory();
        int kept;
        string tail;
        using (var wal = WriteAheadLog.Open(dir.Path, Small, new ListLogger(), out _))
        {
            wal.Append(new HardState { Term = 1, Vote = 1 }, []);
            foreach (Entry e in Entries.Range(1, 60, 1, 200))
            {
                wal.Append(null, [e]);
            }

            wal.Sync();
            tail = wal.SegmentPaths[^1];
            Assert.True(WalSegment.TryParseName(Path.GetFileName(tail), out _, out ulong first));
            kept = (int)first - 1;
        }

        using (var stream = new FileStream(tail, FileMode.Open))
        {
            stream.SetLength(5);
        }

        using (var wal = WriteAheadLog.Open(dir.Path, Small, new ListLogger(), out WalReplay replay))
        {
            Assert.Equal(Entries.Range(1, (ulong)kept, 1, 200), replay.Entries);
            Assert.Equal(new HardState { Term = 1, Vote = 1 }, replay.HardState);
            wal.Append(null, Entries.Range((ulong)kept + 1, 70, 1, 200));
        }

        using (WriteAheadLog.Open(dir.Path, Small, new ListLogger(), out WalReplay replay))
        {
            Assert.Equal(Entries.Range(1, 70, 1, 200), replay.Entries);
        }
    }

    [Fact]
    public void ALeftoverTemporarySegmentIsDeletedOnOpen()
    {
        using var dir = new TempDirectory();
        using (WriteAheadLog.Open(dir.Path, Options, new ListLogger(), out _))
        {
        }

        string temp = Path.Combine(dir.Path, "0000000000000001-0000000000000005.wal.tmp");
        File.WriteAllBytes(temp, [1, 2, 3]);
        using (WriteAheadLog.Open(dir.Path, Options, new ListLogger(), out _))
        {
        }

        Assert.False(File.Exists(temp));
    }

    /// <summary>Writes entries 1..10 (term 1), one Sync each; returns the tail path and the file
    /// length after each entry.</summary>
    private static (string Tail, long[] Ends) WriteTenSyncedEntries(string directory)
    {
        long[] ends = new long[10];
        using var wal = WriteAheadLog.Open(directory, Options, new ListLogger(), out _);
        string tail = wal.SegmentPaths[^1];
        for (ulong i = 1; i <= 10; i++)
        {
            wal.Append(null, [Entries.Make(i, 1)]);
            wal.Sync();
            ends[i - 1] = new FileInfo(tail).Length;
        }

        return (tail, ends);
    }
}
