using Coordination.Server.Errors;
using Coordination.Server.Mvcc;
using Mvccpb;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Mvcc;

public class MvccStoreTests
{
    private static long Put(MvccStore store, string key, string value, long lease = 0)
    {
        using IMvccWriteTxn txn = store.BeginWrite();
        txn.Put(B(key), B(value), lease);
        return txn.End().Revision;
    }

    private static long Delete(MvccStore store, string key, string? end = null)
    {
        using IMvccWriteTxn txn = store.BeginWrite();
        long deleted = txn.DeleteRange(end is null ? KeyRange.Single(B(key)) : KeyRange.FromRequest(B(key), B(end))).Deleted;
        txn.End();
        return deleted;
    }

    private static KeyValue? Get(IMvccReadView view, string key, long revision = 0)
    {
        List<KeyValue> kvs = view.Range(KeyRange.Single(B(key)), new MvccRangeOptions(revision)).Kvs;
        return kvs.Count == 0 ? null : kvs[0];
    }

    [Fact]
    public void Fresh_store_is_at_revision_1_and_empty()
    {
        var store = new MvccStore();
        Assert.Equal(1, store.Revision);
        Assert.Equal(0, store.CompactRevision);
        Assert.Empty(store.ReadView.Range(KeyRange.All).Kvs);
    }

    [Fact]
    public void First_put_creates_revision_2_with_version_1()
    {
        var store = new MvccStore();
        Assert.Equal(2, Put(store, "foo", "bar"));
        KeyValue kv = Get(store.ReadView, "foo")!;
        Assert.Equal((2L, 2L, 1L, "bar"), (kv.CreateRevision, kv.ModRevision, kv.Version, S(kv.Value)));
    }

    [Fact]
    public void Put_on_existing_key_keeps_create_revision_and_bumps_version()
    {
        var store = new MvccStore();
        Put(store, "foo", "bar");
        Put(store, "foo", "bar");
        KeyValue kv = Get(store.ReadView, "foo")!;
        Assert.Equal((2L, 3L, 2L), (kv.CreateRevision, kv.ModRevision, kv.Version));
    }

    [Fact]
    public void Delete_then_put_starts_a_new_generation()
    {
        var store = new MvccStore();
        Put(store, "k", "1");
        Put(store, "k", "2");
        Assert.Equal(1, Delete(store, "k"));
        Assert.Null(Get(store.ReadView, "k"));
        Put(store, "k", "3");
        KeyValue kv = Get(store.ReadView, "k")!;
        Assert.Equal((5L, 5L, 1L), (kv.CreateRevision, kv.ModRevision, kv.Version));
    }

    [Fact]
    public void Deleting_nothing_does_not_bump_the_revision()
    {
        var store = new MvccStore();
        Put(store, "a", "1");
        Assert.Equal(0, Delete(store, "zzz"));
        Assert.Equal(2, store.Revision);
    }

    [Fact]
    public void Changes_in_one_txn_share_the_revision_with_increasing_order()
    {
        var store = new MvccStore();
        Put(store, "x", "old");
        using IMvccWriteTxn txn = store.BeginWrite();
        txn.Put(B("a"), B("1"), 0);
        txn.Put(B("b"), B("2"), 0);
        txn.DeleteRange(KeyRange.Single(B("x")));
        MvccCommit commit = txn.End();
        Assert.Equal(3, commit.Revision);
        Assert.Equal(["a", "b", "x"], commit.Events.Select(e => S(e.Kv.Key)));
        Assert.All(commit.Events, e => Assert.Equal(3, e.Kv.ModRevision));
        Assert.Equal("old", S(commit.PreviousKvs[2]!.Value));
        Assert.Null(commit.PreviousKvs[0]);
    }

    [Fact]
    public void Delete_event_carries_only_key_and_mod_revision()
    {
        var store = new MvccStore();
        Put(store, "k", "v", lease: 7);
        using IMvccWriteTxn txn = store.BeginWrite();
        txn.DeleteRange(KeyRange.Single(B("k")));
        Event e = txn.End().Events.Single();
        Assert.Equal(Event.Types.EventType.Delete, e.Type);
        Assert.Equal(new KeyValue { Key = B("k"), ModRevision = 3 }, e.Kv);
    }

    [Fact]
    public void Reads_inside_a_txn_see_its_writes_and_others_see_them_only_after_End()
    {
        var store = new MvccStore();
        using IMvccWriteTxn txn = store.BeginWrite();
        txn.Put(B("k"), B("v"), 0);
        Assert.Equal("v", S(Get(txn, "k")!.Value));
        Assert.Equal(2, txn.Revision);
        Assert.Null(Get(store.ReadView, "k"));
        txn.End();
        Assert.Equal("v", S(Get(store.ReadView, "k")!.Value));
    }

    [Fact]
    public void Aborted_txn_leaves_no_trace()
    {
        var store = new MvccStore();
        Put(store, "a", "1");
        uint before = store.Hash();
        using (IMvccWriteTxn txn = store.BeginWrite())
        {
            txn.Put(B("a"), B("2"), 0);
            txn.Put(B("b"), B("2"), 0);
        }

        Assert.Equal(2, store.Revision);
        Assert.Equal(before, store.Hash());
        Assert.Equal(3, Put(store, "c", "1"));
    }

    [Fact]
    public void Only_one_write_txn_at_a_time()
    {
        var store = new MvccStore();
        using IMvccWriteTxn txn = store.BeginWrite();
        Assert.Throws<InvalidOperationException>(() => store.BeginWrite());
    }

    [Fact]
    public void Reads_at_a_past_revision_see_the_past()
    {
        var store = new MvccStore();
        Put(store, "k", "1");
        Put(store, "k", "2");
        Delete(store, "k");
        Assert.Equal("1", S(Get(store.ReadView, "k", 2)!.Value));
        Assert.Equal("2", S(Get(store.ReadView, "k", 3)!.Value));
        Assert.Null(Get(store.ReadView, "k", 4));
        Assert.Null(Get(store.ReadView, "k", 1));
        Assert.Equal(4, store.ReadView.Range(KeyRange.Single(B("k")), new MvccRangeOptions(2)).Revision);
    }

    [Fact]
    public void Reading_a_future_revision_fails_with_FutureRevision()
    {
        var store = new MvccStore();
        var e = Assert.Throws<EtcdException>(() => store.ReadView.Range(KeyRange.All, new MvccRangeOptions(2)));
        Assert.Equal(EtcdErrors.FutureRevision, e.Error);
        Assert.Equal("etcdserver: mvcc: required revision is a future revision", e.Message);
    }

    [Fact]
    public void Compaction_keeps_latest_at_or_below_the_revision_and_drops_tombstones()
    {
        // etcd's keyIndex example: put@2 put@3 del@4 put@5 del@6 on one key.
        var store = new MvccStore();
        Put(store, "k", "2");
        Put(store, "k", "3");
        Delete(store, "k");
        Put(store, "k", "5");
        Delete(store, "k");
        Put(store, "other", "7");

        store.Compact(3);
        Assert.Equal("3", S(Get(store.ReadView, "k", 3)!.Value));
        Assert.Equal(3, store.CompactRevision);
        var e = Assert.Throws<EtcdException>(() => Get(store.ReadView, "k", 2));
        Assert.Equal(EtcdErrors.Compacted, e.Error);

        store.Compact(4);
        Assert.Null(Get(store.ReadView, "k", 4));
        Assert.Equal("5", S(Get(store.ReadView, "k", 5)!.Value));

        store.Compact(6);
        Assert.Null(Get(store.ReadView, "k"));
        Assert.Equal("7", S(Get(store.ReadView, "other")!.Value));
        Assert.Equal(7, store.Revision);
    }

    [Fact]
    public void Compact_rejects_old_and_future_revisions()
    {
        var store = new MvccStore();
        Put(store, "a", "1");
        Put(store, "a", "2");
        store.Compact(2);
        Assert.Equal(EtcdErrors.Compacted, Assert.Throws<EtcdException>(() => store.Compact(2)).Error);
        Assert.Equal(EtcdErrors.Compacted, Assert.Throws<EtcdException>(() => store.Compact(1)).Error);
        Assert.Equal(EtcdErrors.FutureRevision, Assert.Throws<EtcdException>(() => store.Compact(4)).Error);
        store.Compact(3);
    }

    [Fact]
    public void Old_views_survive_compaction_and_later_writes()
    {
        var store = new MvccStore();
        Put(store, "a", "1");
        MvccReadView old = store.ReadView;
        Put(store, "a", "2");
        store.Compact(3);
        Assert.Equal("1", S(Get(old, "a")!.Value));
        Assert.Equal("2", S(Get(store.ReadView, "a")!.Value));
    }

    [Fact]
    public void Lease_changes_detach_the_old_lease_on_overwrite_and_delete()
    {
        var store = new MvccStore();
        MvccCommit first;
        using (IMvccWriteTxn txn = store.BeginWrite())
        {
            txn.Put(B("k"), B("v"), 5);
            first = txn.End();
        }

        Assert.Equal([new LeaseChange(5, B("k"), true)], first.LeaseChanges);
        MvccCommit second;
        using (IMvccWriteTxn txn = store.BeginWrite())
        {
            txn.Put(B("k"), B("v"), 6);
            txn.DeleteRange(KeyRange.Single(B("k")));
            second = txn.End();
        }

        Assert.Equal(
            [new LeaseChange(5, B("k"), false), new LeaseChange(6, B("k"), true), new LeaseChange(6, B("k"), false)],
            second.LeaseChanges);
    }

    [Fact]
    public void Approximate_size_grows_with_writes_and_shrinks_with_compaction()
    {
        var store = new MvccStore();
        Assert.Equal(0, store.ApproximateSizeBytes);
        Put(store, "key", new string('x', 100));
        long one = store.ApproximateSizeBytes;
        Assert.Equal(MvccSize.RecordOverhead + 3 + 100, one);
        Put(store, "key", new string('y', 100));
        Assert.Equal(2 * one, store.ApproximateSizeBytes);
        store.Compact(3);
        Assert.Equal(one, store.ApproximateSizeBytes);
    }

    [Fact]
    public void Commit_observer_sees_every_revision_after_it_is_visible()
    {
        var observer = new RecordingObserver();
        var store = new MvccStore(observer);
        observer.Store = store;
        Put(store, "a", "1");
        Delete(store, "nothing");
        Put(store, "b", "1");
        Assert.Equal([2L, 3L], observer.Revisions);
    }

    private sealed class RecordingObserver : IMvccCommitObserver
    {
        public MvccStore? Store { get; set; }

        public List<long> Revisions { get; } = [];

        public void OnCommit(MvccCommit commit)
        {
            Assert.Equal(commit.Revision, Store!.Revision);
            Revisions.Add(commit.Revision);
        }
    }
}
