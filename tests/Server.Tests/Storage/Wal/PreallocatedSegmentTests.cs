using Coordination.Raft.Protocol;
using Coordination.Server.Storage.Wal;

namespace Coordination.Server.Tests.Storage.Wal;

/// <summary>Segments created at full size, written with zeros ahead of need by the <see cref="SegmentPreparer"/>.</summary>
public sealed class PreallocatedSegmentTests
{
    private const long SegmentSize = 8192;
    private static readonly WalOptions Preallocated = new() { SegmentSizeBytes = SegmentSize, PreallocateSegments = true };

    [Fact]
    public void A_new_segment_is_full_size_and_the_next_one_waits_prepared_as_zeros()
    {
        using var dir = new TempDirectory();
        string tail;
        using (var wal = WriteAheadLog.Open(dir.Path, Preallocated, new ListLogger(), out _))
        {
            tail = wal.SegmentPaths[^1];
        }

        Assert.Equal(SegmentSize, new FileInfo(tail).Length);
        byte[] prepared = File.ReadAllBytes(Path.Combine(dir.Path, SegmentPreparer.FileName));
        Assert.Equal(SegmentSize, prepared.Length);
        Assert.False(prepared.AsSpan().ContainsAnyExcept((byte)0));
    }

    [Fact]
    public void Appends_fill_the_zeros_and_replay_across_cuts_and_reopens_without_loss_or_warning()
    {
        using var dir = new TempDirectory();
        var logger = new ListLogger();
        List<Entry> entries = Entries.Range(1, 120, 1, 300);
        using (var wal = WriteAheadLog.Open(dir.Path, Preallocated, logger, out _))
        {
            foreach (var entry in entries.Take(60))
            {
                wal.Append(new HardState { Term = 1, Commit = entry.Index }, [entry]);
                wal.Sync();
            }
        }

        using (var wal = WriteAheadLog.Open(dir.Path, Preallocated, logger, out WalReplay replay))
        {
            Assert.Equal(entries.Take(60), replay.Entries);
            Assert.Equal(0, replay.DiscardedTailBytes);
            foreach (var entry in entries.Skip(60))
            {
                wal.Append(new HardState { Term = 1, Commit = entry.Index }, [entry]);
                wal.Sync();
            }
            Assert.True(wal.SegmentPaths.Count >= 4, $"expected several cuts, got {wal.SegmentPaths.Count} segments");
            Assert.All(wal.SegmentPaths, path => Assert.True(new FileInfo(path).Length >= SegmentSize));
        }

        using (WriteAheadLog.Open(dir.Path, Preallocated, logger, out WalReplay replay))
        {
            Assert.Equal(entries, replay.Entries);
            Assert.Equal(120ul, replay.HardState!.Commit);
            Assert.Equal(0, replay.DiscardedTailBytes);
        }
        Assert.Equal(0, logger.Warnings);
    }

    [Fact]
    public void A_torn_tail_in_a_preallocated_segment_is_cut_and_its_zeros_restored()
    {
        using var dir = new TempDirectory();
        string tail;
        using (var wal = WriteAheadLog.Open(dir.Path, Preallocated, new ListLogger(), out _))
        {
            tail = wal.SegmentPaths[^1];
            wal.Append(null, Entries.Range(1, 5, 1, 100));
            wal.Sync();
        }
        byte[] image = File.ReadAllBytes(tail);
        int end = image.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;
        using (var file = new FileStream(tail, FileMode.Open, FileAccess.Write))
        {
            // Half a record that never finished: not zeros, not decodable.
            file.Position = end;
            file.Write(Enumerable.Repeat((byte)0xAB, 100).ToArray());
        }

        var logger = new ListLogger();
        using (var wal = WriteAheadLog.Open(dir.Path, Preallocated, logger, out WalReplay replay))
        {
            Assert.Equal(Entries.Range(1, 5, 1, 100), replay.Entries);
            Assert.True(replay.DiscardedTailBytes > 0);
            Assert.Equal(1, logger.Warnings);
            byte[] repaired = File.ReadAllBytes(tail);
            Assert.Equal(SegmentSize, repaired.Length);
            Assert.False(repaired.AsSpan(end).ContainsAnyExcept((byte)0));

            wal.Append(null, Entries.Range(6, 8, 1, 100));
            wal.Sync();
        }

        using (WriteAheadLog.Open(dir.Path, Preallocated, logger, out WalReplay replay))
        {
            Assert.Equal(Entries.Range(1, 8, 1, 100), replay.Entries);
            Assert.Equal(0, replay.DiscardedTailBytes);
        }
    }

    [Fact]
    public void A_prepared_file_left_by_a_crash_is_prepared_again_at_open()
    {
        using var dir = new TempDirectory();
        using (WriteAheadLog.Open(dir.Path, Preallocated, new ListLogger(), out _))
        {
        }
        string prepared = Path.Combine(dir.Path, SegmentPreparer.FileName);
        File.WriteAllBytes(prepared, Enumerable.Repeat((byte)0x5A, 1000).ToArray());

        using (WriteAheadLog.Open(dir.Path, Preallocated, new ListLogger(), out _))
        {
        }

        byte[] again = File.ReadAllBytes(prepared);
        Assert.Equal(SegmentSize, again.Length);
        Assert.False(again.AsSpan().ContainsAnyExcept((byte)0));
    }
}
