using System.Text;
using Coordination.Client.Kv;
using Coordination.Client.Tests.Fixtures;

namespace Coordination.Client.Tests.Contract;

public abstract class KvContract(ContractTarget target) : ContractBase(target, ContractGroup.Kv)
{
    [Fact]
    public async Task Put_then_get_returns_the_value_and_its_revisions()
    {
        var first = await Client.Kv.PutAsync(Key("a"), "1", cancellationToken: Ct);
        var second = await Client.Kv.PutAsync(Key("a"), "2", cancellationToken: Ct);

        var kv = await Client.Kv.GetAsync(Key("a"), cancellationToken: Ct);

        Assert.NotNull(kv);
        Assert.Equal("2", kv.ValueString);
        Assert.Equal(Key("a"), kv.KeyString);
        Assert.Equal(first.Header.Revision, kv.CreateRevision);
        Assert.Equal(second.Header.Revision, kv.ModRevision);
        Assert.Equal(2, kv.Version);
        Assert.True(second.Header.Revision > first.Header.Revision);
    }

    [Fact]
    public async Task Get_of_a_missing_key_is_null()
    {
        Assert.Null(await Client.Kv.GetAsync(Key("missing"), cancellationToken: Ct));
        Assert.Null(await Client.Kv.GetStringAsync(Key("missing"), Ct));
    }

    [Fact]
    public async Task Prefix_reads_are_sorted_counted_and_limited()
    {
        foreach (var name in new[] { "c", "a", "b" })
        {
            await Client.Kv.PutAsync(Key("p/" + name), name, cancellationToken: Ct);
        }

        await Client.Kv.PutAsync(Key("q"), "outside", cancellationToken: Ct);

        var all = await Client.Kv.GetPrefixAsync(Key("p/"), cancellationToken: Ct);
        Assert.Equal(["a", "b", "c"], all.Kvs.Select(k => k.ValueString));
        Assert.Equal(3, all.Count);
        Assert.False(all.More);

        var limited = await Client.Kv.GetPrefixAsync(Key("p/"), new RangeOptions { Limit = 2, SortOrder = SortOrder.Descending }, Ct);
        Assert.Equal(["c", "b"], limited.Kvs.Select(k => k.ValueString));
        Assert.True(limited.More);
        Assert.Equal(3, limited.Count);

        var counted = await Client.Kv.GetPrefixAsync(Key("p/"), new RangeOptions { CountOnly = true }, Ct);
        Assert.Empty(counted.Kvs);
        Assert.Equal(3, counted.Count);
    }

    [Fact]
    public async Task Binary_keys_and_values_round_trip_including_0xff()
    {
        byte[] key = [.. Encoding.UTF8.GetBytes(Prefix), 0x00, 0xff, 0xfe];
        byte[] value = [0xff, 0x00, 0x80];

        await Client.Kv.PutAsync(key, value, cancellationToken: Ct);
        var kv = await Client.Kv.GetAsync(key, cancellationToken: Ct);
        var prefixed = await Client.Kv.GetPrefixAsync(key.AsMemory(0, key.Length - 1), cancellationToken: Ct);

        Assert.NotNull(kv);
        Assert.Equal(value, kv.Value.ToArray());
        Assert.Equal(key, Assert.Single(prefixed.Kvs).Key.ToArray());
    }

    [Fact]
    public async Task Put_and_delete_return_previous_values_when_asked()
    {
        await Client.Kv.PutAsync(Key("d/1"), "one", cancellationToken: Ct);
        var put = await Client.Kv.PutAsync(Key("d/1"), "uno", new PutOptions { PrevKv = true }, Ct);
        await Client.Kv.PutAsync(Key("d/2"), "two", cancellationToken: Ct);

        Assert.Equal("one", put.Previous?.ValueString);

        var single = await Client.Kv.DeleteAsync(Key("d/1"), new DeleteOptions { PrevKv = true }, Ct);
        Assert.Equal(1, single.Deleted);
        Assert.Equal("uno", Assert.Single(single.Previous).ValueString);

        await Client.Kv.PutAsync(Key("d/3"), "three", cancellationToken: Ct);
        var prefix = await Client.Kv.DeletePrefixAsync(Key("d/"), cancellationToken: Ct);
        Assert.Equal(2, prefix.Deleted);
        Assert.Empty(prefix.Previous);
        Assert.Equal(0, (await Client.Kv.GetPrefixAsync(Key("d/"), cancellationToken: Ct)).Count);
    }

    [Fact]
    public async Task Reads_at_an_old_revision_see_the_old_value_until_compacted()
    {
        var old = await Client.Kv.PutAsync(Key("h"), "old", cancellationToken: Ct);
        var current = await Client.Kv.PutAsync(Key("h"), "new", cancellationToken: Ct);

        var then = await Client.Kv.GetAsync(Key("h"), new RangeOptions { Revision = old.Header.Revision }, Ct);
        Assert.Equal("old", then?.ValueString);

        await Client.Kv.CompactAsync(current.Header.Revision, cancellationToken: Ct);

        var compacted = await Assert.ThrowsAsync<EtcdCompactedException>(
            () => Client.Kv.GetAsync(Key("h"), new RangeOptions { Revision = old.Header.Revision }, Ct));
        Assert.Equal("etcdserver: mvcc: required revision has been compacted", compacted.Message);
        Assert.Equal("new", await Client.Kv.GetStringAsync(Key("h"), Ct));
    }

    [Fact]
    public async Task A_future_revision_is_a_typed_error()
    {
        var now = await Client.Kv.PutAsync(Key("f"), "x", cancellationToken: Ct);

        await Assert.ThrowsAsync<EtcdFutureRevisionException>(
            () => Client.Kv.GetAsync(Key("f"), new RangeOptions { Revision = now.Header.Revision + 1000 }, Ct));
    }

    [Fact]
    public async Task An_empty_key_is_an_invalid_request()
    {
        var e = await Assert.ThrowsAsync<EtcdInvalidRequestException>(() => Client.Kv.PutAsync("", "v", cancellationToken: Ct));
        Assert.Equal("etcdserver: key is not provided", e.Message);
    }

    [Theory]
    [InlineData(1600 * 1024)] // over etcd's 1.5 MiB request limit: "etcdserver: request is too large"
    [InlineData(2200 * 1024)] // over the gRPC message limit as well: refused by the transport
    public async Task A_request_over_the_size_limit_is_request_too_large(int size)
    {
        var big = new byte[size];

        var e = await Assert.ThrowsAsync<EtcdRequestTooLargeException>(() => Client.Kv.PutAsync(Encoding.UTF8.GetBytes(Key("big")), big, cancellationToken: Ct));
        Assert.Null(await Client.Kv.GetAsync(Key("big"), cancellationToken: Ct));
        if (size < 2 * 1024 * 1024)
        {
            Assert.Equal("etcdserver: request is too large", e.Message);
        }
    }
}

[Collection(EtcdCollection.Name)]
public sealed class KvOnEtcd(EtcdTarget target) : KvContract(target);

[Collection(CoordinationCollection.Name)]
public sealed class KvOnCoordination(CoordinationTarget target) : KvContract(target);

[Collection(ExternalCollection.Name)]
public sealed class KvOnExternal(ExternalTarget target) : KvContract(target);
