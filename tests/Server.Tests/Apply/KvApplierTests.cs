using Coordination.Server.Apply;
using Coordination.Server.Errors;
using Coordination.Server.Mvcc;
using Etcdserverpb;
using Google.Protobuf;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Apply;

public class KvApplierTests
{
    private readonly MvccStore _store = new();
    private readonly FakeLeases _leases = new(100, 200);
    private readonly KvApplier _kv;

    public KvApplierTests()
    {
        _kv = new KvApplier(_store, _leases);
    }

    private PutResponse Put(string key, string value, long lease = 0) =>
        _kv.Put(new PutRequest { Key = B(key), Value = B(value), Lease = lease });

    private RangeResponse Get(string key, string? end = null, long revision = 0) =>
        _kv.Range(new RangeRequest { Key = B(key), RangeEnd = end is null ? ByteString.Empty : B(end), Revision = revision });

    private static string[] Keys(RangeResponse r) => [.. r.Kvs.Select(kv => S(kv.Key))];

    private static EtcdError Fails(Action action) => Assert.Throws<EtcdException>(action).Error;

    private void Seed(params string[] keys)
    {
        foreach (string key in keys)
        {
            Put(key, key.ToUpperInvariant());
        }
    }

    [Fact]
    public void Put_reports_the_new_revision_and_prev_kv_on_request()
    {
        Assert.Equal(2, Put("foo", "bar").Header.Revision);
        PutResponse second = _kv.Put(new PutRequest { Key = B("foo"), Value = B("baz"), PrevKv = true });
        Assert.Equal(3, second.Header.Revision);
        Assert.Equal("bar", S(second.PrevKv.Value));
        Assert.Null(_kv.Put(new PutRequest { Key = B("new"), PrevKv = true }).PrevKv);
    }

    [Fact]
    public void Put_ignore_value_keeps_the_value_and_bumps_the_version()
    {
        Put("k", "v");
        _kv.Put(new PutRequest { Key = B("k"), IgnoreValue = true });
        var kv = Get("k").Kvs.Single();
        Assert.Equal(("v", 2L), (S(kv.Value), kv.Version));
    }

    [Fact]
    public void Put_ignore_flags_on_a_missing_key_fail_with_KeyNotFound_and_change_nothing()
    {
        Assert.Equal(EtcdErrors.KeyNotFound, Fails(() => _kv.Put(new PutRequest { Key = B("k"), IgnoreValue = true })));
        Assert.Equal(EtcdErrors.KeyNotFound, Fails(() => _kv.Put(new PutRequest { Key = B("k"), IgnoreLease = true })));
        Assert.Equal(1, _store.Revision);
    }

    [Fact]
    public void Put_with_an_unknown_lease_fails_with_LeaseNotFound()
    {
        EtcdError error = Fails(() => Put("k", "v", lease: 999));
        Assert.Equal((Grpc.Core.StatusCode.NotFound, "etcdserver: requested lease not found"), (error.Code, error.Message));
        Assert.Equal(1, _store.Revision);
    }

    [Fact]
    public void Put_attaches_its_lease_and_detaches_the_previous_one()
    {
        Put("k", "v", lease: 100);
        Assert.Equal([(100L, "k")], _leases.Attached);
        Put("k", "v", lease: 200);
        Assert.Equal([(200L, "k")], _leases.Attached);
        _kv.Put(new PutRequest { Key = B("k"), Value = B("w"), IgnoreLease = true });
        Assert.Equal(200, Get("k").Kvs[0].Lease);
        Put("k", "v");
        Assert.Empty(_leases.Attached);
        Put("k", "v", lease: 100);
        _kv.DeleteRange(new DeleteRangeRequest { Key = B("k") });
        Assert.Empty(_leases.Attached);
    }

    [Fact]
    public void DeleteRange_counts_and_returns_prev_kvs_and_skips_the_revision_when_nothing_matched()
    {
        Seed("a", "b", "c");
        DeleteRangeResponse none = _kv.DeleteRange(new DeleteRangeRequest { Key = B("x") });
        Assert.Equal((0L, 4L), (none.Deleted, none.Header.Revision));
        DeleteRangeResponse r = _kv.DeleteRange(new DeleteRangeRequest { Key = B("a"), RangeEnd = B("c"), PrevKv = true });
        Assert.Equal((2L, 5L), (r.Deleted, r.Header.Revision));
        Assert.Equal(["a", "b"], r.PrevKvs.Select(kv => S(kv.Key)));
        Assert.Equal(["c"], Keys(Get("a", "\0")));
    }

    [Fact]
    public void Range_key_forms_single_interval_from_key_and_everything()
    {
        Seed("a", "b", "c", "d");
        Assert.Equal(["b"], Keys(Get("b")));
        Assert.Equal(["b", "c"], Keys(Get("b", "d")));
        Assert.Equal(["c", "d"], Keys(Get("c", "\0")));
        Assert.Equal(["a", "b", "c", "d"], Keys(Get("\0", "\0")));
        Assert.Empty(Keys(Get("zz")));
    }

    [Fact]
    public void Range_limit_sets_more_but_count_is_the_full_count()
    {
        Seed("a", "b", "c");
        RangeResponse r = _kv.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), Limit = 2 });
        Assert.Equal(["a", "b"], Keys(r));
        Assert.Equal((true, 3L), (r.More, r.Count));
        RangeResponse exact = _kv.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), Limit = 3 });
        Assert.False(exact.More);
    }

    [Fact]
    public void Range_in_the_past_reports_the_current_revision_in_the_header()
    {
        Put("k", "1");
        Put("k", "2");
        RangeResponse r = Get("k", revision: 2);
        Assert.Equal(("1", 3L), (S(r.Kvs[0].Value), r.Header.Revision));
    }

    [Fact]
    public void Range_revision_bounds()
    {
        Put("k", "1");
        Put("k", "2");
        Put("k", "3");
        Assert.Equal(EtcdErrors.FutureRevision, Fails(() => Get("k", revision: 5)));
        _kv.Compact(new CompactionRequest { Revision = 3 });
        EtcdError compacted = Fails(() => Get("k", revision: 2));
        Assert.Equal((Grpc.Core.StatusCode.OutOfRange, "etcdserver: mvcc: required revision has been compacted"), (compacted.Code, compacted.Message));
        Assert.Equal("2", S(Get("k", revision: 3).Kvs[0].Value));
    }

    [Fact]
    public void Range_sorting_a_non_key_target_without_order_sorts_ascending()
    {
        Put("a", "3");
        Put("b", "1");
        Put("c", "2");
        Put("b", "9");
        var byMod = _kv.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), SortTarget = RangeRequest.Types.SortTarget.Mod });
        Assert.Equal(["a", "c", "b"], Keys(byMod));
        var byValueDesc = _kv.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), SortTarget = RangeRequest.Types.SortTarget.Value, SortOrder = RangeRequest.Types.SortOrder.Descend, Limit = 2 });
        Assert.Equal(["b", "a"], Keys(byValueDesc));
        Assert.Equal((true, 3L), (byValueDesc.More, byValueDesc.Count));
        var byKeyDesc = _kv.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), SortOrder = RangeRequest.Types.SortOrder.Descend });
        Assert.Equal(["c", "b", "a"], Keys(byKeyDesc));
    }

    [Fact]
    public void Range_with_a_target_but_no_order_sorts_only_the_first_limit_plus_one_keys_like_etcd()
    {
        Put("c", "1"); // mod 2
        Put("a", "1");
        Put("b", "1"); // mod 4
        Put("a", "2"); // mod 5
        var request = new RangeRequest { Key = B("a"), RangeEnd = B("z"), SortTarget = RangeRequest.Types.SortTarget.Mod, Limit = 1 };
        // etcd fetches limit+1 keys in key order (a, b) when sort_order is NONE, then sorts them.
        Assert.Equal(["b"], Keys(_kv.Range(request)));
        request.SortOrder = RangeRequest.Types.SortOrder.Ascend;
        Assert.Equal(["c"], Keys(_kv.Range(request)));
    }

    [Fact]
    public void Range_keys_only_and_count_only()
    {
        Seed("a", "b");
        RangeResponse keysOnly = _kv.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), KeysOnly = true });
        Assert.All(keysOnly.Kvs, kv => Assert.True(kv.Value.IsEmpty));
        Assert.Equal(["a", "b"], Keys(keysOnly));
        RangeResponse countOnly = _kv.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), CountOnly = true });
        Assert.Equal((0, 2L), (countOnly.Kvs.Count, countOnly.Count));
    }

    [Fact]
    public void Range_revision_filters_prune_kvs_but_not_the_count()
    {
        Seed("a", "b", "c"); // created at 2, 3, 4
        Put("a", "again");   // a modified at 5
        RangeResponse r = _kv.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), MinModRevision = 3, MaxCreateRevision = 3 });
        Assert.Equal(["a", "b"], Keys(r));
        Assert.Equal(3L, r.Count);
        RangeResponse created = _kv.Range(new RangeRequest { Key = B("a"), RangeEnd = B("z"), MinCreateRevision = 3, MaxModRevision = 3 });
        Assert.Equal(["b"], Keys(created));
    }

    [Fact]
    public void Range_with_an_unknown_sort_option_fails()
    {
        EtcdError e = Fails(() => _kv.Range(new RangeRequest { Key = B("a"), SortTarget = (RangeRequest.Types.SortTarget)9 }));
        Assert.Equal("etcdserver: invalid sort option", e.Message);
    }

    [Fact]
    public void Compact_reports_the_current_revision_and_rejects_bad_revisions()
    {
        Put("a", "1");
        Put("a", "2");
        Assert.Equal(3, _kv.Compact(new CompactionRequest { Revision = 2, Physical = true }).Header.Revision);
        Assert.Equal(EtcdErrors.Compacted, Fails(() => _kv.Compact(new CompactionRequest { Revision = 2 })));
        Assert.Equal(EtcdErrors.FutureRevision, Fails(() => _kv.Compact(new CompactionRequest { Revision = 9 })));
    }
}
