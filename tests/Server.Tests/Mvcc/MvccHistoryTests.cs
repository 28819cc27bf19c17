using Coordination.Server.Errors;
using Coordination.Server.Mvcc;
using Mvccpb;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Mvcc;

public class MvccHistoryTests
{
    private static readonly KeyRange All = KeyRange.All;

    private static void Write(MvccStore store, Action<IMvccWriteTxn> body)
    {
        using IMvccWriteTxn txn = store.BeginWrite();
        body(txn);
        txn.End();
    }

    private static string Text(MvccHistoryBatch batch) => string.Join(", ", batch.Events.Select((e, i) =>
        (e.Type == Event.Types.EventType.Put ? $"PUT {S(e.Kv.Key)}={S(e.Kv.Value)}@{e.Kv.ModRevision} v{e.Kv.Version}" : $"DEL {S(e.Kv.Key)}@{e.Kv.ModRevision}")
        + (batch.PreviousKvs[i] is { } p ? $" prev={S(p.Value)}@{p.ModRevision}" : "")));

    private static MvccStore Sample()
    {
        var store = new MvccStore();
        Write(store, t => t.Put(B("b"), B("1"), 0));                          // 2
        Write(store, t => { t.Put(B("a"), B("1"), 0); t.Put(B("c"), B("1"), 0); }); // 3
        Write(store, t => t.Put(B("b"), B("2"), 0));                          // 4
        Write(store, t => t.DeleteRange(KeyRange.Single(B("a"))));           // 5
        Write(store, t => t.Put(B("a"), B("2"), 0));                          // 6
        return store;
    }

    [Fact]
    public void Events_come_in_revision_then_sub_revision_order_with_previous_versions()
    {
        MvccHistoryBatch batch = Sample().ReadView.History(All, 1, 100, 100);
        Assert.Equal("PUT b=1@2 v1, PUT a=1@3 v1, PUT c=1@3 v1, PUT b=2@4 v2 prev=1@2, DEL a@5 prev=1@3, PUT a=2@6 v1", Text(batch));
        Assert.Equal(7, batch.NextRevision);
    }

    [Fact]
    public void Only_revisions_inside_the_bounds_and_keys_inside_the_range_are_returned()
    {
        MvccStore store = Sample();
        Assert.Equal("PUT b=2@4 v2 prev=1@2, DEL a@5 prev=1@3", Text(store.ReadView.History(All, 4, 5, 100)));
        Assert.Equal("PUT a=1@3 v1, DEL a@5 prev=1@3, PUT a=2@6 v1", Text(store.ReadView.History(KeyRange.Single(B("a")), 0, 100, 100)));
        Assert.Equal("PUT b=1@2 v1, PUT c=1@3 v1, PUT b=2@4 v2 prev=1@2", Text(store.ReadView.History(KeyRange.FromRequest(B("b"), B("d")), 0, 100, 100)));
        MvccHistoryBatch future = store.ReadView.History(All, 7, 100, 100);
        Assert.Empty(future.Events);
        Assert.Equal(7, future.NextRevision);
    }

    [Fact]
    public void The_event_limit_ends_a_batch_at_a_whole_revision()
    {
        MvccStore store = Sample();
        MvccHistoryBatch first = store.ReadView.History(All, 1, 100, 2);
        Assert.Equal("PUT b=1@2 v1", Text(first));
        Assert.Equal(3, first.NextRevision);
        // A single revision larger than the limit still comes whole.
        MvccHistoryBatch second = store.ReadView.History(All, first.NextRevision, 100, 1);
        Assert.Equal("PUT a=1@3 v1, PUT c=1@3 v1", Text(second));
        Assert.Equal(4, second.NextRevision);
    }

    [Fact]
    public void The_byte_limit_ends_a_batch_at_a_whole_revision_too()
    {
        MvccStore store = Sample();
        // Each event here is a 1-byte key and a 1-byte value (2 bytes); revision 3 has two events.
        MvccHistoryBatch batch = store.ReadView.History(All, 1, 100, 100, maxBytes: 5);
        Assert.Equal("PUT b=1@2 v1", Text(batch));
        Assert.Equal(3, batch.NextRevision);
        MvccHistoryBatch whole = store.ReadView.History(All, 3, 100, 100, maxBytes: 1);
        Assert.Equal("PUT a=1@3 v1, PUT c=1@3 v1", Text(whole));
        Assert.Equal(4, whole.NextRevision);
        Assert.Equal(7, store.ReadView.History(All, 1, 100, 100, maxBytes: 6 * 2).NextRevision);
    }

    [Fact]
    public void Reading_below_the_compact_revision_fails_and_previous_versions_at_the_boundary_are_absent()
    {
        MvccStore store = Sample();
        store.Compact(4);
        Assert.Equal(EtcdErrors.Compacted, Assert.Throws<EtcdException>(() => store.ReadView.History(All, 3, 100, 100)).Error);
        // b@4 is the oldest kept version of b: its predecessor b@2 is compacted.
        Assert.Equal("PUT b=2@4 v2, DEL a@5 prev=1@3, PUT a=2@6 v1", Text(store.ReadView.History(All, 4, 100, 100)));
    }
}
