using Coordination.Client.Kv;
using Coordination.Client.Tests.Fixtures;

namespace Coordination.Client.Tests.Contract;

public abstract class TxnContract(ContractTarget target) : ContractBase(target, ContractGroup.Txn)
{
    [Fact]
    public async Task Create_if_absent_succeeds_once_then_takes_the_else_branch()
    {
        Txn CreateIfAbsent(string value) => Client.Kv.Txn()
            .If(Compare.Version(Key("lock")).Equal(0))
            .Then(TxnOp.Put(Key("lock"), value))
            .Else(TxnOp.Get(Key("lock")));

        var first = await CreateIfAbsent("me").CommitAsync(Ct);
        var second = await CreateIfAbsent("you").CommitAsync(Ct);

        Assert.True(first.Succeeded);
        Assert.NotNull(Assert.Single(first.Results).Put);
        Assert.False(second.Succeeded);
        Assert.Equal("me", Assert.Single(Assert.Single(second.Results).Range!.Kvs).ValueString);
        Assert.Equal(first.Header.Revision, second.Header.Revision);
    }

    [Fact]
    public async Task Compares_on_value_create_and_mod_revision_and_lease()
    {
        var put = await Client.Kv.PutAsync(Key("k"), "v", cancellationToken: Ct);
        var rev = put.Header.Revision;

        async Task<bool> Holds(TxnCompare compare) => (await Client.Kv.Txn().If(compare).CommitAsync(Ct)).Succeeded;

        Assert.True(await Holds(Compare.Value(Key("k")).Equal("v")));
        Assert.False(await Holds(Compare.Value(Key("k")).Equal("w")));
        Assert.True(await Holds(Compare.Value(Key("k")).Less("w")));
        Assert.True(await Holds(Compare.Value(Key("k")).NotEqual("x")));
        Assert.True(await Holds(Compare.CreateRevision(Key("k")).Equal(rev)));
        Assert.True(await Holds(Compare.ModRevision(Key("k")).Equal(rev)));
        Assert.False(await Holds(Compare.ModRevision(Key("k")).Greater(rev)));
        Assert.True(await Holds(Compare.ModRevision(Key("k")).Less(rev + 1)));
        Assert.True(await Holds(Compare.Version(Key("k")).Equal(1)));
        Assert.True(await Holds(Compare.Lease(Key("k")).Equal(0)));
        Assert.False(await Holds(Compare.Lease(Key("k")).NotEqual(0)));
    }

    [Fact]
    public async Task Prefix_compares_hold_only_when_every_key_matches()
    {
        await Client.Kv.PutAsync(Key("p/a"), "same", cancellationToken: Ct);
        await Client.Kv.PutAsync(Key("p/b"), "same", cancellationToken: Ct);

        Assert.True((await Client.Kv.Txn().If(Compare.Value(Key("p/")).Prefix().Equal("same")).CommitAsync(Ct)).Succeeded);

        await Client.Kv.PutAsync(Key("p/c"), "other", cancellationToken: Ct);
        Assert.False((await Client.Kv.Txn().If(Compare.Value(Key("p/")).Prefix().Equal("same")).CommitAsync(Ct)).Succeeded);
    }

    [Fact]
    public async Task Multiple_operations_apply_atomically_at_one_revision()
    {
        var result = await Client.Kv.Txn()
            .Then(TxnOp.Put(Key("x"), "1"), TxnOp.Put(Key("y"), "2"), TxnOp.GetPrefix(Key("")))
            .CommitAsync(Ct);

        Assert.True(result.Succeeded);
        var x = await Client.Kv.GetAsync(Key("x"), cancellationToken: Ct);
        var y = await Client.Kv.GetAsync(Key("y"), cancellationToken: Ct);
        Assert.Equal(result.Header.Revision, x!.ModRevision);
        Assert.Equal(result.Header.Revision, y!.ModRevision);
        Assert.Equal(2, result.Results[2].Range!.Count);
    }

    [Fact]
    public async Task Nested_transactions_run_their_own_branch()
    {
        await Client.Kv.PutAsync(Key("flag"), "on", cancellationToken: Ct);

        var inner = new Txn()
            .If(Compare.Value(Key("flag")).Equal("on"))
            .Then(TxnOp.Put(Key("inner"), "then"))
            .Else(TxnOp.Put(Key("inner"), "else"));
        var result = await Client.Kv.Txn()
            .If(Compare.Version(Key("flag")).Greater(0))
            .Then(TxnOp.Nested(inner), TxnOp.Delete(Key("flag")))
            .CommitAsync(Ct);

        Assert.True(result.Succeeded);
        Assert.True(result.Results[0].Txn!.Succeeded);
        Assert.Equal("then", await Client.Kv.GetStringAsync(Key("inner"), Ct));
        Assert.Null(await Client.Kv.GetAsync(Key("flag"), cancellationToken: Ct));
    }

    [Fact]
    public async Task Invalid_transactions_are_typed_errors()
    {
        var tooMany = Client.Kv.Txn().Then([.. Enumerable.Range(0, 129).Select(i => TxnOp.Put(Key($"m/{i}"), "v"))]);
        var duplicate = Client.Kv.Txn().Then(TxnOp.Put(Key("dup"), "1"), TxnOp.Put(Key("dup"), "2"));

        var e1 = await Assert.ThrowsAsync<EtcdInvalidRequestException>(() => tooMany.CommitAsync(Ct));
        var e2 = await Assert.ThrowsAsync<EtcdInvalidRequestException>(() => duplicate.CommitAsync(Ct));

        Assert.Equal("etcdserver: too many operations in txn request", e1.Message);
        Assert.Equal("etcdserver: duplicate key given in txn request", e2.Message);
    }

    [Fact]
    public void A_number_compare_on_a_value_is_refused_before_sending()
    {
        Assert.Throws<InvalidOperationException>(() => Compare.Value("k").Equal(1));
        Assert.Throws<InvalidOperationException>(() => Compare.Version("k").Equal("1"));
    }
}

[Collection(EtcdCollection.Name)]
public sealed class TxnOnEtcd(EtcdTarget target) : TxnContract(target);

[Collection(CoordinationCollection.Name)]
public sealed class TxnOnCoordination(CoordinationTarget target) : TxnContract(target);

[Collection(ExternalCollection.Name)]
public sealed class TxnOnExternal(ExternalTarget target) : TxnContract(target);
