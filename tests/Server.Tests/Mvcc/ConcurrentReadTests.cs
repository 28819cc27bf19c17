using System.Globalization;
using Coordination.Server.Mvcc;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Mvcc;

public class ConcurrentReadTests
{
    [Fact]
    public async Task Readers_always_see_a_consistent_snapshot_while_the_writer_moves_value_between_keys()
    {
        const int total = 1000;
        var store = new MvccStore();
        using (IMvccWriteTxn init = store.BeginWrite())
        {
            init.Put(B("a"), B(total.ToString(CultureInfo.InvariantCulture)), 0);
            init.Put(B("b"), B("0"), 0);
            init.End();
        }

        using var stop = new CancellationTokenSource();
        long reads = 0;
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            long lastRevision = 0;
            while (!stop.IsCancellationRequested)
            {
                MvccReadView view = store.ReadView;
                Assert.True(view.Revision >= lastRevision, "revisions never go back");
                lastRevision = view.Revision;
                MvccRangeResult result = view.Range(KeyRange.FromRequest(B("a"), B("c")));
                Assert.Equal(2, result.Kvs.Count);
                Assert.Equal(total, result.Kvs.Sum(kv => int.Parse(kv.Value.ToStringUtf8(), CultureInfo.InvariantCulture)));
                Assert.Equal(view.Revision, result.Kvs.Max(kv => kv.ModRevision));
                Interlocked.Increment(ref reads);
            }
        })).ToArray();

        var random = new Random(7);
        for (int i = 0; i < 20_000; i++)
        {
            using IMvccWriteTxn txn = store.BeginWrite();
            List<Mvccpb.KeyValue> kvs = txn.Range(KeyRange.FromRequest(B("a"), B("c"))).Kvs;
            int a = int.Parse(kvs[0].Value.ToStringUtf8(), CultureInfo.InvariantCulture);
            int move = random.Next(-a, total - a + 1);
            txn.Put(B("a"), B((a - move).ToString(CultureInfo.InvariantCulture)), 0);
            txn.Put(B("b"), B((total - a + move).ToString(CultureInfo.InvariantCulture)), 0);
            txn.End();
            if (i % 1000 == 0)
            {
                store.Compact(store.Revision);
            }
        }

        stop.Cancel();
        await Task.WhenAll(readers);
        Assert.True(Interlocked.Read(ref reads) > 0);
    }
}
