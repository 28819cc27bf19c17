using Coordination.Server.Apply;
using Coordination.Server.Errors;
using Coordination.Server.Mvcc;
using Etcdserverpb;
using Google.Protobuf;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Apply;

public class TxnTests
{
    private readonly MvccStore _store = new();
    private readonly FakeLeases _leases = new(100);
    private readonly KvApplier _kv;

    public TxnTests()
    {
        _kv = new KvApplier(_store, _leases);
    }

    private static RequestOp PutOp(string key, string value, long lease = 0) =>
        new() { RequestPut = new PutRequest { Key = B(key), Value = B(value), Lease = lease } };

    private static RequestOp GetOp(string key, string? end = null) =>
        new() { RequestRange = new RangeRequest { Key = B(key), RangeEnd = end is null ? ByteString.Empty : B(end) } };

    private static RequestOp DeleteOp(string key) => new() { RequestDeleteRange = new DeleteRangeRequest { Key = B(key) } };

    private static Compare Cmp(string key, Compare.Types.CompareTarget target, Compare.Types.CompareResult result, long number = 0, string? value = null, string? end = null)
    {
        var c = new Compare { Key = B(key), Target = target, Result = result };
        if (end is not null)
        {
            c.RangeEnd = B(end);
        }

        switch (target)
        {
            case Compare.Types.CompareTarget.Version: c.Version = number; break;
            case Compare.Types.CompareTarget.Create: c.CreateRevision = number; break;
            case Compare.Types.CompareTarget.Mod: c.ModRevision = number; break;
            case Compare.Types.CompareTarget.Lease: c.Lease = number; break;
            case Compare.Types.CompareTarget.Value: c.Value = B(value ?? string.Empty); break;
        }

        return c;
    }

    private static TxnRequest Txn(IEnumerable<Compare> compares, IEnumerable<RequestOp> success, IEnumerable<RequestOp>? failure = null)
    {
        var txn = new TxnRequest();
        txn.Compare.AddRange(compares);
        txn.Success.AddRange(success);
        txn.Failure.AddRange(failure ?? []);
        return txn;
    }

    private void Put(string key, string value, long lease = 0) =>
        _kv.Put(new PutRequest { Key = B(key), Value = B(value), Lease = lease });

    private bool Succeeds(Compare compare) => _kv.Txn(Txn([compare], [])).Succeeded;

    [Fact]
    public void Every_compare_target_and_result()
    {
        Put("k", "m");          // rev 2
        Put("k", "m", 100);     // rev 3, version 2, lease 100
        const Compare.Types.CompareResult eq = Compare.Types.CompareResult.Equal;
        const Compare.Types.CompareResult ne = Compare.Types.CompareResult.NotEqual;
        const Compare.Types.CompareResult gt = Compare.Types.CompareResult.Greater;
        const Compare.Types.CompareResult lt = Compare.Types.CompareResult.Less;
        Assert.True(Succeeds(Cmp("k", Compare.Types.CompareTarget.Version, eq, 2)));
        Assert.True(Succeeds(Cmp("k", Compare.Types.CompareTarget.Version, gt, 1)));
        Assert.False(Succeeds(Cmp("k", Compare.Types.CompareTarget.Version, lt, 2)));
        Assert.True(Succeeds(Cmp("k", Compare.Types.CompareTarget.Create, eq, 2)));
        Assert.True(Succeeds(Cmp("k", Compare.Types.CompareTarget.Mod, ne, 2)));
        Assert.True(Succeeds(Cmp("k", Compare.Types.CompareTarget.Mod, lt, 4)));
        Assert.True(Succeeds(Cmp("k", Compare.Types.CompareTarget.Lease, eq, 100)));
        Assert.True(Succeeds(Cmp("k", Compare.Types.CompareTarget.Value, eq, value: "m")));
        Assert.True(Succeeds(Cmp("k", Compare.Types.CompareTarget.Value, gt, value: "l")));
        Assert.True(Succeeds(Cmp("k", Compare.Types.CompareTarget.Value, lt, value: "mm")));
        Assert.False(Succeeds(Cmp("k", Compare.Types.CompareTarget.Value, ne, value: "m")));
    }

    [Fact]
    public void A_missing_key_compares_as_zero_except_value_which_always_fails()
    {
        Assert.True(Succeeds(Cmp("nope", Compare.Types.CompareTarget.Create, Compare.Types.CompareResult.Equal, 0)));
        Assert.True(Succeeds(Cmp("nope", Compare.Types.CompareTarget.Version, Compare.Types.CompareResult.Equal, 0)));
        Assert.True(Succeeds(Cmp("nope", Compare.Types.CompareTarget.Lease, Compare.Types.CompareResult.Equal, 0)));
        Assert.False(Succeeds(Cmp("nope", Compare.Types.CompareTarget.Value, Compare.Types.CompareResult.Equal, value: "")));
        Assert.False(Succeeds(Cmp("nope", Compare.Types.CompareTarget.Value, Compare.Types.CompareResult.NotEqual, value: "x")));
    }

    [Fact]
    public void A_compare_with_range_end_must_hold_for_every_key()
    {
        Put("a1", "x");
        Put("a2", "x");
        Put("a3", "y");
        Assert.True(Succeeds(Cmp("a1", Compare.Types.CompareTarget.Value, Compare.Types.CompareResult.Equal, value: "x", end: "a3")));
        Assert.False(Succeeds(Cmp("a1", Compare.Types.CompareTarget.Value, Compare.Types.CompareResult.Equal, value: "x", end: "a4")));
        Assert.True(Succeeds(Cmp("b", Compare.Types.CompareTarget.Create, Compare.Types.CompareResult.Equal, 0, end: "c")));
    }

    [Fact]
    public void All_writes_share_one_revision_and_reads_see_earlier_writes()
    {
        Put("x", "old");
        TxnResponse r = _kv.Txn(Txn(
            [Cmp("k", Compare.Types.CompareTarget.Create, Compare.Types.CompareResult.Equal, 0)],
            [GetOp("k"), PutOp("k", "v"), GetOp("k"), DeleteOp("x"), PutOp("y", "w")]));
        Assert.True(r.Succeeded);
        Assert.Equal(3, r.Header.Revision);
        Assert.Equal(3, _store.Revision);
        Assert.Empty(r.Responses[0].ResponseRange.Kvs);
        Assert.Equal(2, r.Responses[0].ResponseRange.Header.Revision);
        Assert.Equal("v", S(r.Responses[2].ResponseRange.Kvs[0].Value));
        Assert.Equal(3, r.Responses[2].ResponseRange.Header.Revision);
        Assert.Equal(new ResponseHeader { Revision = 3 }, r.Responses[1].ResponsePut.Header);
        Assert.Equal(1, r.Responses[3].ResponseDeleteRange.Deleted);
        Assert.All(_store.ReadView.Range(KeyRange.All).Kvs, kv => Assert.True(kv.ModRevision <= 3));
    }

    [Fact]
    public void A_txn_without_effective_writes_does_not_bump_the_revision()
    {
        Put("a", "1");
        TxnResponse failed = _kv.Txn(Txn([Cmp("a", Compare.Types.CompareTarget.Version, Compare.Types.CompareResult.Equal, 9)], [PutOp("a", "2")], [GetOp("a")]));
        Assert.False(failed.Succeeded);
        Assert.Equal(2, failed.Header.Revision);
        TxnResponse noDelete = _kv.Txn(Txn([], [DeleteOp("missing")]));
        Assert.Equal((2L, 2L), (noDelete.Header.Revision, noDelete.Responses[0].ResponseDeleteRange.Header.Revision));
        Assert.Equal(2, _store.Revision);
    }

    [Fact]
    public void Nested_txns_run_their_chosen_branch_and_their_header_is_left_empty()
    {
        Put("a", "1");
        var inner = Txn([Cmp("a", Compare.Types.CompareTarget.Value, Compare.Types.CompareResult.Equal, value: "1")], [PutOp("b", "from-then")], [PutOp("b", "from-else")]);
        TxnResponse r = _kv.Txn(Txn([], [PutOp("a", "2"), new RequestOp { RequestTxn = inner }]));
        TxnResponse nested = r.Responses[1].ResponseTxn;
        // Nested compares are evaluated against the state before the txn (a was still "1").
        Assert.True(nested.Succeeded);
        Assert.Equal(new ResponseHeader(), nested.Header);
        Assert.Equal(3, nested.Responses[0].ResponsePut.Header.Revision);
        Assert.Equal(3, r.Header.Revision);
        Assert.Equal("from-then", S(_kv.Range(new RangeRequest { Key = B("b") }).Kvs[0].Value));
    }

    [Fact]
    public void A_txn_is_all_or_nothing_when_a_lease_is_missing()
    {
        Put("a", "1");
        uint before = _store.Hash();
        EtcdError e = Assert.Throws<EtcdException>(() => _kv.Txn(Txn([], [PutOp("a", "2"), PutOp("b", "2", lease: 999)]))).Error;
        Assert.Equal(EtcdErrors.LeaseNotFound, e);
        Assert.Equal(before, _store.Hash());
        Assert.Equal(2, _store.Revision);
    }

    [Fact]
    public void A_txn_range_at_a_future_or_compacted_revision_fails_before_writing()
    {
        Put("a", "1");
        Put("a", "2");
        _kv.Compact(new CompactionRequest { Revision = 3 });
        var future = new RequestOp { RequestRange = new RangeRequest { Key = B("a"), Revision = 4 } };
        Assert.Equal(EtcdErrors.FutureRevision, Assert.Throws<EtcdException>(() => _kv.Txn(Txn([], [PutOp("b", "1"), future]))).Error);
        var compacted = new RequestOp { RequestRange = new RangeRequest { Key = B("a"), Revision = 2 } };
        Assert.Equal(EtcdErrors.Compacted, Assert.Throws<EtcdException>(() => _kv.Txn(Txn([], [PutOp("b", "1"), compacted]))).Error);
        Assert.Equal(3, _store.Revision);
    }

    [Fact]
    public void A_read_only_txn_runs_against_a_view()
    {
        Put("a", "1");
        TxnResponse r = KvApplier.ReadOnlyTxn(_store.ReadView, Txn([Cmp("a", Compare.Types.CompareTarget.Version, Compare.Types.CompareResult.Greater, 0)], [GetOp("a")]));
        Assert.True(r.Succeeded);
        Assert.Equal(2, r.Header.Revision);
        Assert.Equal("1", S(r.Responses[0].ResponseRange.Kvs[0].Value));
    }
}
