using Coordination.Server.Errors;
using Coordination.Server.Mvcc;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Mvcc;

public class HashAndImageTests
{
    private static MvccStore BuildStore(int seed, int writes)
    {
        var random = new Random(seed);
        var store = new MvccStore();
        for (int i = 0; i < writes; i++)
        {
            using IMvccWriteTxn txn = store.BeginWrite();
            string key = "k" + random.Next(50);
            if (random.Next(5) == 0)
            {
                txn.DeleteRange(KeyRange.Single(B(key)));
            }
            else
            {
                txn.Put(B(key), B("v" + random.Next(1000)), random.Next(3));
            }

            txn.End();
        }

        return store;
    }

    private static MvccStore RoundTrip(MvccStore store)
    {
        using var stream = new MemoryStream();
        store.WriteImage(stream);
        stream.Position = 0;
        return MvccStore.ReadImage(stream);
    }

    [Fact]
    public void Crc32C_matches_the_standard_check_value()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void Equal_histories_hash_equal_and_different_ones_do_not()
    {
        Assert.Equal(BuildStore(1, 500).Hash(), BuildStore(1, 500).Hash());
        Assert.Equal(BuildStore(1, 500).HashKv(0), BuildStore(1, 500).HashKv(0));
        Assert.NotEqual(BuildStore(1, 500).Hash(), BuildStore(2, 500).Hash());
    }

    [Fact]
    public void HashKv_at_a_past_revision_ignores_later_writes()
    {
        MvccStore a = BuildStore(3, 300);
        MvccStore b = BuildStore(3, 400);
        Assert.Equal(a.HashKv(250), b.HashKv(250));
        Assert.Equal(new MvccHashKv(a.HashKv(250).Hash, 0, 250), b.HashKv(250));
        Assert.NotEqual(a.HashKv(0).Hash, b.HashKv(0).Hash);
    }

    [Fact]
    public void HashKv_rejects_compacted_and_future_revisions()
    {
        MvccStore store = BuildStore(4, 100);
        store.Compact(50);
        Assert.Equal(EtcdErrors.Compacted, Assert.Throws<EtcdException>(() => store.HashKv(49)).Error);
        Assert.Equal(EtcdErrors.FutureRevision, Assert.Throws<EtcdException>(() => store.HashKv(store.Revision + 1)).Error);
        Assert.Equal(50, store.HashKv(50).CompactRevision);
    }

    [Fact]
    public void Compaction_is_deterministic_across_members()
    {
        MvccStore a = BuildStore(5, 400);
        MvccStore b = BuildStore(5, 400);
        a.Compact(100);
        a.Compact(300);
        b.Compact(300);
        Assert.Equal(a.Hash(), b.Hash());
        Assert.Equal(a.HashKv(350), b.HashKv(350));
        Assert.Equal(a.ApproximateSizeBytes, b.ApproximateSizeBytes);
    }

    [Fact]
    public void Image_round_trip_preserves_every_revision_and_hash()
    {
        MvccStore store = BuildStore(6, 600);
        store.Compact(200);
        MvccStore restored = RoundTrip(store);
        Assert.Equal(store.Hash(), restored.Hash());
        Assert.Equal(store.HashKv(0), restored.HashKv(0));
        Assert.Equal((store.Revision, store.CompactRevision, store.ApproximateSizeBytes), (restored.Revision, restored.CompactRevision, restored.ApproximateSizeBytes));
        for (long rev = 200; rev <= store.Revision; rev += 37)
        {
            Assert.Equal(store.ReadView.Range(KeyRange.All, new MvccRangeOptions(rev)).Kvs, restored.ReadView.Range(KeyRange.All, new MvccRangeOptions(rev)).Kvs);
        }

        // The restored store keeps working like the original.
        foreach (MvccStore s in new[] { store, restored })
        {
            using IMvccWriteTxn txn = s.BeginWrite();
            txn.Put(B("k1"), B("after"), 0);
            txn.End();
        }

        Assert.Equal(store.Hash(), restored.Hash());
    }

    [Fact]
    public void Restore_replaces_the_state_of_a_live_store()
    {
        MvccStore source = BuildStore(7, 100);
        using var stream = new MemoryStream();
        source.WriteImage(stream);
        stream.Position = 0;
        MvccStore target = BuildStore(8, 10);
        target.Restore(stream);
        Assert.Equal(source.Hash(), target.Hash());
    }

    [Fact]
    public void Corrupted_images_are_rejected()
    {
        MvccStore store = BuildStore(9, 50);
        using var stream = new MemoryStream();
        store.WriteImage(stream);
        byte[] bytes = stream.ToArray();
        bytes[^10] ^= 0x55;
        Assert.Throws<InvalidDataException>(() => MvccStore.ReadImage(new MemoryStream(bytes)));
        Assert.Throws<InvalidDataException>(() => MvccStore.ReadImage(new MemoryStream(bytes[..(bytes.Length / 2)])));
        Assert.Throws<InvalidDataException>(() => MvccStore.ReadImage(new MemoryStream("nope"u8.ToArray())));
    }

    [Fact]
    public void Empty_store_round_trips()
    {
        var store = new MvccStore();
        MvccStore restored = RoundTrip(store);
        Assert.Equal(1, restored.Revision);
        Assert.Equal(store.Hash(), restored.Hash());
    }
}
