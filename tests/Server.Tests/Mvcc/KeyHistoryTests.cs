using Coordination.Server.Mvcc;
using Google.Protobuf;

namespace Coordination.Server.Tests.Mvcc;

public sealed class KeyHistoryTests
{
    private static readonly ByteString Key = ByteString.CopyFromUtf8("k");

    private static KeyRecord Put(long main, long version) =>
        new(new Revision(main, 0), createRevision: 1, version, ByteString.CopyFromUtf8($"v{main}"), lease: 0);

    private static long[] Mains(KeyHistory history) => history.Records.ToArray().Select(r => r.Main).ToArray();

    [Fact]
    public void Appending_keeps_every_earlier_history_unchanged()
    {
        var histories = new List<KeyHistory> { KeyHistory.Create(Key, Put(1, 1)) };
        for (long rev = 2; rev <= 100; rev++) histories.Add(histories[^1].Append(Put(rev, rev)));

        for (int i = 0; i < histories.Count; i++)
        {
            Assert.Equal(Enumerable.Range(1, i + 1).Select(n => (long)n), Mains(histories[i]));
            Assert.Equal(i + 1, histories[i].Latest.Main);
        }
    }

    [Fact]
    public void Two_appends_to_the_same_history_do_not_see_each_other()
    {
        // A discarded write transaction leaves a claimed slot behind; the next append from the
        // same published history must not overwrite what the first one wrote.
        var h = KeyHistory.Create(Key, Put(1, 1)).Append(Put(2, 2)).Append(Put(3, 3));
        var first = h.Append(Put(4, 4));
        var second = h.Append(Put(5, 4));
        var third = first.Append(Put(6, 5));

        Assert.Equal([1L, 2, 3], Mains(h));
        Assert.Equal([1L, 2, 3, 4], Mains(first));
        Assert.Equal([1L, 2, 3, 5], Mains(second));
        Assert.Equal([1L, 2, 3, 4, 6], Mains(third));
    }

    [Fact]
    public void Index_at_a_revision_is_the_newest_record_at_or_below_it_for_short_and_long_histories()
    {
        foreach (var length in new[] { 3, 16, 17, 1000 })
        {
            // Records at even revisions 2, 4, ..., 2*length.
            var h = KeyHistory.Create(Key, Put(2, 1));
            for (long n = 2; n <= length; n++) h = h.Append(Put(2 * n, n));

            Assert.Equal(-1, h.IndexAt(1));
            for (long rev = 2; rev <= 2 * length + 3; rev++)
            {
                var expected = (int)Math.Min(length, rev / 2) - 1;
                Assert.True(expected == h.IndexAt(rev), $"length {length}, revision {rev}: expected {expected}, got {h.IndexAt(rev)}");
            }
        }
    }

    [Fact]
    public void Compacting_a_shared_history_copies_only_what_it_keeps()
    {
        var h = KeyHistory.Create(Key, Put(1, 1));
        for (long rev = 2; rev <= 10; rev++) h = h.Append(Put(rev, rev));

        var compacted = h.CompactAt(7, out var dropped)!;
        var grown = compacted.Append(Put(11, 11));

        Assert.Equal(6, dropped);
        Assert.Equal([7L, 8, 9, 10], Mains(compacted));
        Assert.Equal([7L, 8, 9, 10, 11], Mains(grown));
        Assert.Equal(Enumerable.Range(1, 10).Select(n => (long)n), Mains(h));
    }
}
