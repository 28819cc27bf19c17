using Coordination.Client.Kv;
using Google.Protobuf;

namespace Coordination.Client.Tests.Unit;

public sealed class BuildingBlockTests
{
    [Theory]
    [InlineData(new byte[] { 0x61 }, new byte[] { 0x62 })]
    [InlineData(new byte[] { 0x61, 0xff }, new byte[] { 0x62 })]
    [InlineData(new byte[] { 0x61, 0xfe }, new byte[] { 0x61, 0xff })]
    [InlineData(new byte[] { 0xff, 0xff }, new byte[] { 0x00 })]
    [InlineData(new byte[0], new byte[] { 0x00 })]
    public void Prefix_end_is_the_first_key_after_every_key_with_the_prefix(byte[] prefix, byte[] end)
    {
        Assert.Equal(end, KeyRange.PrefixEnd(prefix));
    }

    [Fact]
    public void The_txn_builder_produces_the_request_etcd_expects()
    {
        var request = new Txn()
            .If(Compare.Version("a").Equal(0), Compare.Value("b").Prefix().Greater("m"))
            .Then(TxnOp.Put("a", "1", lease: 7, prevKv: true), TxnOp.Nested(new Txn().Then(TxnOp.Get("z"))))
            .Else(TxnOp.DeletePrefix("a/"))
            .ToRequest();

        Assert.Equal(2, request.Compare.Count);
        Assert.Equal(Etcdserverpb.Compare.Types.CompareTarget.Version, request.Compare[0].Target);
        Assert.Equal(0, request.Compare[0].Version);
        Assert.Equal(Etcdserverpb.Compare.Types.CompareResult.Greater, request.Compare[1].Result);
        Assert.Equal(ByteString.CopyFromUtf8("c"), request.Compare[1].RangeEnd);
        Assert.Equal(7, request.Success[0].RequestPut.Lease);
        Assert.True(request.Success[0].RequestPut.PrevKv);
        Assert.Equal("z", request.Success[1].RequestTxn.Success[0].RequestRange.Key.ToStringUtf8());
        Assert.Equal("a0", request.Failure[0].RequestDeleteRange.RangeEnd.ToStringUtf8());
    }

    [Fact]
    public void Only_transactions_that_only_read_are_repeatable()
    {
        var reads = new Txn().If(Compare.Version("a").Equal(0)).Then(TxnOp.Get("a"), TxnOp.Nested(new Txn().Else(TxnOp.GetPrefix("b")))).ToRequest();
        var nestedWrite = new Txn().Then(TxnOp.Get("a"), TxnOp.Nested(new Txn().Else(TxnOp.Delete("b")))).ToRequest();

        Assert.True(Txn.IsReadOnly(reads));
        Assert.False(Txn.IsReadOnly(nestedWrite));
        Assert.False(Txn.IsReadOnly(new Txn().Then(TxnOp.Put("a", "b")).ToRequest()));
    }

    [Fact]
    public async Task An_unbound_txn_cannot_be_committed()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => new Txn().CommitAsync(TestContext.Current.CancellationToken));
    }
}
