using Coordination.Server.Apply;
using Coordination.Server.Errors;
using Etcdserverpb;
using Google.Protobuf;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Apply;

public class RequestValidatorTests
{
    private readonly RequestValidator _validator = new(maxTxnOps: 4);

    private static RequestOp PutOp(string key) => new() { RequestPut = new PutRequest { Key = B(key), Value = B("v") } };

    private static RequestOp DeleteOp(string key, string? end = null) =>
        new() { RequestDeleteRange = new DeleteRangeRequest { Key = B(key), RangeEnd = end is null ? ByteString.Empty : B(end) } };

    private static RequestOp TxnOp(IEnumerable<RequestOp> success, IEnumerable<RequestOp>? failure = null) => new() { RequestTxn = Txn(success, failure) };

    private static TxnRequest Txn(IEnumerable<RequestOp> success, IEnumerable<RequestOp>? failure = null, int compares = 0)
    {
        var txn = new TxnRequest();
        txn.Success.AddRange(success);
        txn.Failure.AddRange(failure ?? []);
        for (int i = 0; i < compares; i++)
        {
            txn.Compare.Add(new Compare { Key = B("c" + i) });
        }

        return txn;
    }

    private EtcdError? Check(TxnRequest txn)
    {
        try
        {
            _validator.Validate(txn);
            return null;
        }
        catch (EtcdException e)
        {
            return e.Error;
        }
    }

    private static void AssertError(EtcdError expected, string message, Action action)
    {
        EtcdError actual = Assert.Throws<EtcdException>(action).Error;
        Assert.Equal(expected, actual);
        Assert.Equal(message, actual.Message);
        Assert.Equal(Grpc.Core.StatusCode.InvalidArgument, actual.Code);
    }

    [Fact]
    public void Empty_keys_are_rejected()
    {
        const string message = "etcdserver: key is not provided";
        AssertError(EtcdErrors.EmptyKey, message, () => RequestValidator.Validate(new RangeRequest()));
        AssertError(EtcdErrors.EmptyKey, message, () => RequestValidator.Validate(new PutRequest { Value = B("v") }));
        AssertError(EtcdErrors.EmptyKey, message, () => RequestValidator.Validate(new DeleteRangeRequest()));
        AssertError(EtcdErrors.EmptyKey, message, () => _validator.Validate(new TxnRequest { Compare = { new Compare() } }));
        AssertError(EtcdErrors.EmptyKey, message, () => _validator.Validate(Txn([new RequestOp { RequestPut = new PutRequest() }])));
    }

    [Fact]
    public void Put_flags_conflicting_with_provided_fields_are_rejected()
    {
        AssertError(EtcdErrors.ValueProvided, "etcdserver: value is provided", () => RequestValidator.Validate(new PutRequest { Key = B("k"), Value = B("v"), IgnoreValue = true }));
        AssertError(EtcdErrors.LeaseProvided, "etcdserver: lease is provided", () => RequestValidator.Validate(new PutRequest { Key = B("k"), Lease = 5, IgnoreLease = true }));
        RequestValidator.Validate(new PutRequest { Key = B("k"), IgnoreValue = true, IgnoreLease = true });
    }

    [Fact]
    public void Unknown_sort_options_are_rejected()
    {
        // An unknown sort order is accepted (etcd 3.4 answers it unsorted); only the target is checked.
        RequestValidator.Validate(new RangeRequest { Key = B("k"), SortOrder = (RangeRequest.Types.SortOrder)3 });
        AssertError(EtcdErrors.InvalidSortOption, "etcdserver: invalid sort option", () => RequestValidator.Validate(new RangeRequest { Key = B("k"), SortTarget = (RangeRequest.Types.SortTarget)5 }));
    }

    [Fact]
    public void Too_many_ops_counts_the_largest_list_per_level_and_nested_txns_get_the_rest()
    {
        Assert.Null(Check(Txn([PutOp("a"), PutOp("b"), PutOp("c"), PutOp("d")], compares: 4)));
        AssertError(EtcdErrors.TooManyOps, "etcdserver: too many operations in txn request", () => _validator.Validate(Txn([], compares: 5)));
        Assert.Equal(EtcdErrors.TooManyOps, Check(Txn([], [PutOp("a"), PutOp("b"), PutOp("c"), PutOp("d"), PutOp("e")])));
        // Outer level uses 2 of 4; the nested txn may use 2 more but not 3.
        Assert.Null(Check(Txn([PutOp("a"), TxnOp([PutOp("b"), PutOp("c")])])));
        Assert.Equal(EtcdErrors.TooManyOps, Check(Txn([PutOp("a"), TxnOp([PutOp("b"), PutOp("c"), PutOp("d")])])));
    }

    [Fact]
    public void An_empty_request_op_is_key_not_found()
    {
        AssertError(EtcdErrors.KeyNotFound, "etcdserver: key not found", () => _validator.Validate(Txn([new RequestOp()])));
    }

    [Fact]
    public void Checks_run_in_etcd_order()
    {
        // Op count beats an empty key; an empty key (earlier op) beats an empty op; both beat duplicates.
        Assert.Equal(EtcdErrors.TooManyOps, Check(Txn([new RequestOp(), PutOp(""), PutOp("a"), PutOp("a"), PutOp("b")])));
        Assert.Equal(EtcdErrors.EmptyKey, Check(Txn([PutOp("a"), PutOp("a"), PutOp(""), new RequestOp()])));
        Assert.Equal(EtcdErrors.KeyNotFound, Check(Txn([PutOp("a"), PutOp("a"), new RequestOp()])));
    }

    [Fact]
    public void Duplicate_key_rules()
    {
        AssertError(EtcdErrors.DuplicateKey, "etcdserver: duplicate key given in txn request", () => _validator.Validate(Txn([PutOp("a"), PutOp("a")])));
        Assert.Equal(EtcdErrors.DuplicateKey, Check(Txn([DeleteOp("a", "c"), PutOp("b")])));
        Assert.Equal(EtcdErrors.DuplicateKey, Check(Txn([DeleteOp("b"), PutOp("b")])));
        Assert.Equal(EtcdErrors.DuplicateKey, Check(Txn([PutOp("b"), TxnOp([DeleteOp("a", "c")])])));
        Assert.Equal(EtcdErrors.DuplicateKey, Check(Txn([DeleteOp("a", "c"), TxnOp([PutOp("b")])])));
        Assert.Equal(EtcdErrors.DuplicateKey, Check(Txn([PutOp("b"), TxnOp([PutOp("b")])])));
        Assert.Equal(EtcdErrors.DuplicateKey, Check(Txn([TxnOp([PutOp("b")]), TxnOp([], [PutOp("b")])])));

        Assert.Null(Check(Txn([TxnOp([PutOp("b")], [PutOp("b")])])));
        Assert.Null(Check(Txn([DeleteOp("a", "c"), DeleteOp("b", "d")])));
        Assert.Null(Check(Txn([PutOp("a")], [PutOp("a")])));
        Assert.Null(Check(Txn([DeleteOp("a", "c"), PutOp("c")])));
        // As in etcd, the interval check reads range_end literally, so "\0" (to the end) covers nothing.
        Assert.Null(Check(Txn([DeleteOp("a", "\0"), PutOp("b")])));
    }
}
