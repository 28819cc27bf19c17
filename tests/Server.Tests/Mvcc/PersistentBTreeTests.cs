using Coordination.Server.Mvcc;
using Google.Protobuf;

namespace Coordination.Server.Tests.Mvcc;

public class PersistentBTreeTests
{
    private static KeyHistory History(string key, long revision) =>
        KeyHistory.Create(Bytes.B(key), new KeyRecord(new Revision(revision, 0), revision, 1, Bytes.B("v"), 0));

    private static List<string> Keys(BTreeNode root, KeyRange range)
    {
        var keys = new List<string>();
        PersistentBTree.Scan(root, range, h =>
        {
            keys.Add(h.Key.ToStringUtf8());
            return true;
        });
        return keys;
    }

    [Fact]
    public void A_write_copies_only_the_used_part_of_a_leaf_and_grows_it_for_inserts()
    {
        BTreeNode first = PersistentBTree.Set(BTreeNode.NewLeaf(1), History("a", 2), epoch: 1);

        // A later write copies the leaf with room for one more entry, not all MaxEntries slots.
        BTreeNode overwritten = PersistentBTree.Set(first, History("a", 3), epoch: 2);
        Assert.Equal(2, overwritten.Items!.Length);

        // Inserts within the same write grow the copy; the earlier root keeps what it had.
        BTreeNode grown = overwritten;
        foreach (var key in new[] { "b", "c", "d" })
        {
            grown = PersistentBTree.Set(grown, History(key, 4), epoch: 2);
        }

        Assert.Equal(["a", "b", "c", "d"], Keys(grown, KeyRange.All));
        Assert.True(grown.Items!.Length >= 4);
        Assert.Equal(["a"], Keys(first, KeyRange.All));
        Assert.Equal(2, PersistentBTree.Find(first, Bytes.B("a"))!.Latest.Main);
        Assert.Throws<InvalidOperationException>(() => first.EnsureItemCapacity(8, epoch: 2));
    }

    [Fact]
    public void Random_inserts_and_removes_match_a_sorted_set_and_old_roots_never_change()
    {
        var random = new Random(42);
        BTreeNode root = BTreeNode.NewLeaf(0);
        var expected = new SortedSet<string>(StringComparer.Ordinal);
        var snapshots = new List<(BTreeNode Root, string[] Keys)>();
        long epoch = 1;
        for (int step = 0; step < 20_000; step++)
        {
            string key = random.Next(3000).ToString("D5");
            if (random.Next(3) == 0)
            {
                root = PersistentBTree.Remove(root, Bytes.B(key), epoch);
                expected.Remove(key);
            }
            else
            {
                root = PersistentBTree.Set(root, History(key, step + 2), epoch);
                expected.Add(key);
            }

            // Several changes per epoch exercise in-place mutation of owned nodes.
            if (random.Next(8) == 0)
            {
                epoch++;
                if (snapshots.Count < 50)
                {
                    snapshots.Add((root, expected.ToArray()));
                }
            }
        }

        Assert.Equal(expected, Keys(root, KeyRange.All));
        foreach ((BTreeNode snapshotRoot, string[] keys) in snapshots)
        {
            Assert.Equal(keys, Keys(snapshotRoot, KeyRange.All));
        }

        Assert.Equal(
            expected.Where(k => string.CompareOrdinal(k, "01000") >= 0 && string.CompareOrdinal(k, "01100") < 0),
            Keys(root, KeyRange.FromRequest(Bytes.B("01000"), Bytes.B("01100"))));
        foreach (string key in expected.Take(100))
        {
            Assert.NotNull(PersistentBTree.Find(root, Bytes.B(key)));
        }
    }

    [Fact]
    public void Keys_compare_as_unsigned_bytes()
    {
        BTreeNode root = BTreeNode.NewLeaf(1);
        foreach (byte b in new byte[] { 0xff, 0x01, 0x80, 0x7f })
        {
            root = PersistentBTree.Set(root, KeyHistory.Create(ByteString.CopyFrom(b), new KeyRecord(new Revision(2, 0), 2, 1, Bytes.B("v"), 0)), 1);
        }

        var order = new List<byte>();
        PersistentBTree.Scan(root, KeyRange.All, h =>
        {
            order.Add(h.Key[0]);
            return true;
        });
        Assert.Equal([0x01, 0x7f, 0x80, 0xff], order);
    }

    [Fact]
    public void Build_from_sorted_histories_equals_inserting_them()
    {
        var histories = Enumerable.Range(0, 5000).Select(i => History(i.ToString("D6"), i + 2)).ToList();
        BTreeNode built = PersistentBTree.Build(histories, 1);
        Assert.Equal(histories.Select(h => h.Key.ToStringUtf8()), Keys(built, KeyRange.All));
        BTreeNode after = PersistentBTree.Set(built, History("002500x", 9999), 2);
        Assert.Contains("002500x", Keys(after, KeyRange.All));
        Assert.DoesNotContain("002500x", Keys(built, KeyRange.All));
    }
}
