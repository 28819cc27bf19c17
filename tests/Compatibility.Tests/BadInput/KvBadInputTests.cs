using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Coordination.Compatibility.Tests.BadInput;

/// <summary>
/// Invalid KV requests sent over gRPC to our server and to a real etcd 3.4 started in the same test:
/// the outcome (status code and message, or the response) must be the same, and both must keep
/// serving a normal put/get afterwards.
/// </summary>
public sealed class KvBadInputTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static ByteString Filled(int length) => ByteString.CopyFrom(Enumerable.Repeat((byte)'x', length).ToArray());

    /// <summary>Runs the same call against both servers; returns both outcomes after asserting them equal
    /// (unless <paramref name="compareDetail"/> is false, then only the status code is compared).</summary>
    private static async Task<(CallOutcome Ours, CallOutcome Etcd)> SameAsync<T>(
        GrpcSide ours, GrpcSide etcd, string what, Func<KV.KVClient, CallOptions, Task<T>> call, bool compareDetail = true)
        where T : IMessage
    {
        var ct = TestContext.Current.CancellationToken;
        var o = await GrpcSide.CallAsync(() => call(ours.Kv, GrpcSide.Options(ct)));
        var e = await GrpcSide.CallAsync(() => call(etcd.Kv, GrpcSide.Options(ct)));
        TestContext.Current.TestOutputHelper?.WriteLine($"{what}:\n  etcd: {Cut(e)}\n  ours: {Cut(o)}");
        if (compareDetail)
        {
            Assert.True(o == e, $"{what}: etcd answered {Cut(e)}, ours {Cut(o)}");
        }
        else
        {
            Assert.True(o.Code == e.Code, $"{what}: etcd answered {e.Code} ({e.Detail}), ours {o.Code} ({o.Detail})");
        }

        return (o, e);
    }

    private static string Cut(CallOutcome outcome)
    {
        var s = outcome.ToString();
        return s.Length <= 600 ? s : s[..600] + "…";
    }

    private static async Task BothServeAsync(GrpcSide ours, GrpcSide etcd)
    {
        var ct = TestContext.Current.CancellationToken;
        await etcd.AssertServesAsync(ct);
        await ours.AssertServesAsync(ct);
    }

    [Fact]
    public async Task Put_over_max_request_bytes_is_rejected_as_too_large()
    {
        var ct = TestContext.Current.CancellationToken;
        var (ours, etcd) = await GrpcSide.StartPairAsync(ct);
        await using var o = ours;
        await using var e = etcd;

        // Just under the 1.5 MiB default: accepted by both.
        var (fits, _) = await SameAsync(ours, etcd, "put 1,500,000-byte value",
            (kv, opt) => kv.PutAsync(new PutRequest { Key = B("big"), Value = Filled(1_500_000) }, opt).ResponseAsync);
        Assert.True(fits.Ok, $"a 1,500,000-byte put should be accepted: {fits}");

        // Over 1.5 MiB (the raft request limit) but under the 2 MiB gRPC receive limit.
        var (tooLarge, _) = await SameAsync(ours, etcd, "put 1,600,000-byte value",
            (kv, opt) => kv.PutAsync(new PutRequest { Key = B("big"), Value = Filled(1_600_000) }, opt).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, tooLarge.Code);
        Assert.Equal("etcdserver: request is too large", tooLarge.Detail);

        // Same limit inside a txn.
        var (txnTooLarge, _) = await SameAsync(ours, etcd, "txn with a 1,600,000-byte put",
            (kv, opt) => kv.TxnAsync(new TxnRequest { Success = { new RequestOp { RequestPut = new PutRequest { Key = B("big"), Value = Filled(1_600_000) } } } }, opt).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, txnTooLarge.Code);

        // Over 2 MiB: gRPC itself refuses the message; the texts are the libraries' own, so only the code is compared.
        var (overGrpc, _) = await SameAsync(ours, etcd, "put 2,200,000-byte value",
            (kv, opt) => kv.PutAsync(new PutRequest { Key = B("big"), Value = Filled(2_200_000) }, opt).ResponseAsync, compareDetail: false);
        Assert.Equal(StatusCode.ResourceExhausted, overGrpc.Code);

        // Nothing of the refused puts was stored: "big" still holds the accepted value.
        await SameAsync(ours, etcd, "get big (keys only)",
            (kv, opt) => kv.RangeAsync(new RangeRequest { Key = B("big"), KeysOnly = true }, opt).ResponseAsync);
        await BothServeAsync(ours, etcd);
    }

    [Fact]
    public async Task Txn_with_more_than_128_operations_is_rejected()
    {
        var ct = TestContext.Current.CancellationToken;
        var (ours, etcd) = await GrpcSide.StartPairAsync(ct);
        await using var o = ours;
        await using var e = etcd;

        static TxnRequest Txn(int ops, Func<int, RequestOp> op, bool inFailure = false)
        {
            var txn = new TxnRequest();
            for (var i = 0; i < ops; i++)
            {
                (inFailure ? txn.Failure : txn.Success).Add(op(i));
            }

            return txn;
        }

        static RequestOp Put(int i) => new() { RequestPut = new PutRequest { Key = B($"k{i:D3}"), Value = B("v") } };

        var (ok128, _) = await SameAsync(ours, etcd, "txn with 128 puts", (kv, opt) => kv.TxnAsync(Txn(128, Put), opt).ResponseAsync);
        Assert.True(ok128.Ok, ok128.ToString());

        var (over, _) = await SameAsync(ours, etcd, "txn with 129 puts", (kv, opt) => kv.TxnAsync(Txn(129, Put), opt).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, over.Code);
        Assert.Equal("etcdserver: too many operations in txn request", over.Detail);

        await SameAsync(ours, etcd, "txn with 129 ranges in failure",
            (kv, opt) => kv.TxnAsync(Txn(129, i => new RequestOp { RequestRange = new RangeRequest { Key = B($"k{i:D3}") } }, inFailure: true), opt).ResponseAsync);
        await SameAsync(ours, etcd, "txn with 129 compares",
            (kv, opt) => kv.TxnAsync(new TxnRequest { Compare = { Enumerable.Range(0, 129).Select(i => new Compare { Key = B($"k{i:D3}"), Target = Compare.Types.CompareTarget.Version, Version = 1 }) } }, opt).ResponseAsync);

        // The refused txns changed nothing.
        await SameAsync(ours, etcd, "count k*", (kv, opt) => kv.RangeAsync(new RangeRequest { Key = B("k"), RangeEnd = B("l"), CountOnly = true }, opt).ResponseAsync);
        await BothServeAsync(ours, etcd);
    }

    [Fact]
    public async Task Txn_with_duplicate_keys_is_rejected()
    {
        var ct = TestContext.Current.CancellationToken;
        var (ours, etcd) = await GrpcSide.StartPairAsync(ct);
        await using var o = ours;
        await using var e = etcd;

        static RequestOp Put(string k) => new() { RequestPut = new PutRequest { Key = B(k), Value = B("v") } };
        static RequestOp Del(string k, string? end = null) => new() { RequestDeleteRange = new DeleteRangeRequest { Key = B(k), RangeEnd = end is null ? ByteString.Empty : B(end) } };

        var (twoPuts, _) = await SameAsync(ours, etcd, "txn put a, put a", (kv, opt) => kv.TxnAsync(new TxnRequest { Success = { Put("a"), Put("a") } }, opt).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, twoPuts.Code);
        Assert.Equal("etcdserver: duplicate key given in txn request", twoPuts.Detail);

        await SameAsync(ours, etcd, "txn failure: put a, put a", (kv, opt) => kv.TxnAsync(new TxnRequest { Failure = { Put("a"), Put("a") } }, opt).ResponseAsync);
        await SameAsync(ours, etcd, "txn put a, delete a", (kv, opt) => kv.TxnAsync(new TxnRequest { Success = { Put("a"), Del("a") } }, opt).ResponseAsync);
        await SameAsync(ours, etcd, "txn put b, delete [a,c)", (kv, opt) => kv.TxnAsync(new TxnRequest { Success = { Put("b"), Del("a", "c") } }, opt).ResponseAsync);
        await SameAsync(ours, etcd, "txn delete a, delete a (allowed)", (kv, opt) => kv.TxnAsync(new TxnRequest { Success = { Del("a"), Del("a") } }, opt).ResponseAsync);
        await SameAsync(ours, etcd, "txn put a in success, put a in failure (allowed)", (kv, opt) => kv.TxnAsync(new TxnRequest { Success = { Put("a") }, Failure = { Put("a") } }, opt).ResponseAsync);
        await SameAsync(ours, etcd, "txn put a, nested txn put a", (kv, opt) => kv.TxnAsync(new TxnRequest
        {
            Success = { Put("a"), new RequestOp { RequestTxn = new TxnRequest { Success = { Put("a") } } } },
        }, opt).ResponseAsync);

        await SameAsync(ours, etcd, "get a", (kv, opt) => kv.RangeAsync(new RangeRequest { Key = B("a") }, opt).ResponseAsync);
        await BothServeAsync(ours, etcd);
    }

    [Fact]
    public async Task Empty_key_is_rejected_as_not_provided()
    {
        var ct = TestContext.Current.CancellationToken;
        var (ours, etcd) = await GrpcSide.StartPairAsync(ct);
        await using var o = ours;
        await using var e = etcd;

        var (put, _) = await SameAsync(ours, etcd, "put empty key", (kv, opt) => kv.PutAsync(new PutRequest { Value = B("v") }, opt).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, put.Code);
        Assert.Equal("etcdserver: key is not provided", put.Detail);
        await SameAsync(ours, etcd, "range empty key", (kv, opt) => kv.RangeAsync(new RangeRequest(), opt).ResponseAsync);
        await SameAsync(ours, etcd, "range empty key with range_end", (kv, opt) => kv.RangeAsync(new RangeRequest { RangeEnd = B("z") }, opt).ResponseAsync);
        await SameAsync(ours, etcd, "delete empty key", (kv, opt) => kv.DeleteRangeAsync(new DeleteRangeRequest(), opt).ResponseAsync);
        await SameAsync(ours, etcd, "txn put empty key", (kv, opt) => kv.TxnAsync(new TxnRequest { Success = { new RequestOp { RequestPut = new PutRequest { Value = B("v") } } } }, opt).ResponseAsync);
        await SameAsync(ours, etcd, "txn compare on empty key", (kv, opt) => kv.TxnAsync(new TxnRequest { Compare = { new Compare { Target = Compare.Types.CompareTarget.Version, Version = 0 } } }, opt).ResponseAsync);
        await SameAsync(ours, etcd, "txn with an empty RequestOp", (kv, opt) => kv.TxnAsync(new TxnRequest { Success = { new RequestOp() } }, opt).ResponseAsync);

        await SameAsync(ours, etcd, "count all", (kv, opt) => kv.RangeAsync(new RangeRequest { Key = B("\0"), RangeEnd = B("\0"), CountOnly = true }, opt).ResponseAsync);
        await BothServeAsync(ours, etcd);
    }

    [Fact]
    public async Task Range_end_below_key_behaves_as_in_etcd()
    {
        var ct = TestContext.Current.CancellationToken;
        var (ours, etcd) = await GrpcSide.StartPairAsync(ct);
        await using var o = ours;
        await using var e = etcd;

        foreach (var k in new[] { "a", "b", "c", "d" })
        {
            await SameAsync(ours, etcd, $"put {k}", (kv, opt) => kv.PutAsync(new PutRequest { Key = B(k), Value = B(k + k) }, opt).ResponseAsync);
        }

        var (range, _) = await SameAsync(ours, etcd, "range [c, a)", (kv, opt) => kv.RangeAsync(new RangeRequest { Key = B("c"), RangeEnd = B("a") }, opt).ResponseAsync);
        Assert.True(range.Ok, range.ToString());
        await SameAsync(ours, etcd, "range [c, a) count only", (kv, opt) => kv.RangeAsync(new RangeRequest { Key = B("c"), RangeEnd = B("a"), CountOnly = true }, opt).ResponseAsync);
        await SameAsync(ours, etcd, "range [c, c)", (kv, opt) => kv.RangeAsync(new RangeRequest { Key = B("c"), RangeEnd = B("c") }, opt).ResponseAsync);
        var (delete, _) = await SameAsync(ours, etcd, "delete [c, a)", (kv, opt) => kv.DeleteRangeAsync(new DeleteRangeRequest { Key = B("c"), RangeEnd = B("a"), PrevKv = true }, opt).ResponseAsync);
        Assert.True(delete.Ok, delete.ToString());
        await SameAsync(ours, etcd, "txn range [d, b) and delete [d, b)", (kv, opt) => kv.TxnAsync(new TxnRequest
        {
            Success =
            {
                new RequestOp { RequestRange = new RangeRequest { Key = B("d"), RangeEnd = B("b") } },
                new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = B("d"), RangeEnd = B("b") } },
            },
        }, opt).ResponseAsync);

        await SameAsync(ours, etcd, "all keys after", (kv, opt) => kv.RangeAsync(new RangeRequest { Key = B("\0"), RangeEnd = B("\0") }, opt).ResponseAsync);
        await BothServeAsync(ours, etcd);
    }

    /// <summary>sort_order 7 does not exist in the proto. etcd 3.4 is the reference here.</summary>
    [Fact]
    public async Task Unknown_sort_order_behaves_as_in_etcd_3_4()
    {
        var ct = TestContext.Current.CancellationToken;
        var (ours, etcd) = await GrpcSide.StartPairAsync(ct);
        await using var o = ours;
        await using var e = etcd;

        foreach (var (k, v) in new[] { ("s1", "zz"), ("s2", "aa"), ("s3", "mm") })
        {
            await SameAsync(ours, etcd, $"put {k}", (kv, opt) => kv.PutAsync(new PutRequest { Key = B(k), Value = B(v) }, opt).ResponseAsync);
        }

        var failures = new List<string>();
        async Task Check(string what, RangeRequest request)
        {
            var oc = await GrpcSide.CallAsync(() => ours.Kv.RangeAsync(request, GrpcSide.Options(ct)).ResponseAsync);
            var ec = await GrpcSide.CallAsync(() => etcd.Kv.RangeAsync(request, GrpcSide.Options(ct)).ResponseAsync);
            TestContext.Current.TestOutputHelper?.WriteLine($"{what}:\n  etcd: {Cut(ec)}\n  ours: {Cut(oc)}");
            if (oc != ec)
            {
                failures.Add($"{what}: etcd 3.4 answered {Cut(ec)}, ours {Cut(oc)}");
            }
        }

        await Check("range s* sort_order=7 (target KEY)", new RangeRequest { Key = B("s"), RangeEnd = B("t"), SortOrder = (RangeRequest.Types.SortOrder)7 });
        await Check("range s* sort_order=7 target VALUE", new RangeRequest { Key = B("s"), RangeEnd = B("t"), SortOrder = (RangeRequest.Types.SortOrder)7, SortTarget = RangeRequest.Types.SortTarget.Value });
        await Check("range s* sort_order=-1 target VALUE", new RangeRequest { Key = B("s"), RangeEnd = B("t"), SortOrder = (RangeRequest.Types.SortOrder)(-1), SortTarget = RangeRequest.Types.SortTarget.Value });

        // Both keep serving whatever they answered.
        await BothServeAsync(ours, etcd);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// sort_target 7 with ASCEND: etcd 3.4 dereferences a nil sorter and the whole process dies (checked
    /// by hand: "Connection reset by peer" and a Go panic in KV.Range), so it cannot be the reference.
    /// We answer as etcd 3.6 does (InvalidArgument "etcdserver: invalid sort option") and keep serving.
    /// </summary>
    [Fact]
    public async Task Unknown_sort_target_is_refused_and_does_not_stop_the_server()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var ours = await GrpcSide.StartOursAsync(ct);
        await ours.Kv.PutAsync(new PutRequest { Key = B("s1"), Value = B("v") }, GrpcSide.Options(ct));
        foreach (var order in new[] { RangeRequest.Types.SortOrder.Ascend, RangeRequest.Types.SortOrder.Descend, RangeRequest.Types.SortOrder.None })
        {
            var outcome = await GrpcSide.CallAsync(() => ours.Kv.RangeAsync(
                new RangeRequest { Key = B("s"), RangeEnd = B("t"), SortOrder = order, SortTarget = (RangeRequest.Types.SortTarget)7 }, GrpcSide.Options(ct)).ResponseAsync);
            Assert.True(outcome.Code == StatusCode.InvalidArgument && outcome.Detail == "etcdserver: invalid sort option",
                $"sort_target 7 with {order}: expected InvalidArgument \"etcdserver: invalid sort option\", got {outcome}");
            await ours.AssertServesAsync(ct);
        }
    }
}
