using System.Runtime.InteropServices;
using Coordination.Raft.Protocol;
using Coordination.Server.Apply.Protocol;
using Coordination.Server.Hosting;
using Coordination.Server.Mvcc;
using Coordination.Server.StateMachine;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Server.Tests.StateMachine;

public class EntryValueSharingTests
{
    private static readonly ByteString Value = ByteString.CopyFrom(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray());

    [Fact]
    public void A_put_value_shares_the_bytes_of_its_entry()
    {
        var data = new InternalRequest { Id = 7, Put = new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = Value, Lease = 5, PrevKv = true } }.ToByteString();
        var parsed = InternalRequest.Parser.ParseFrom(data.Span);
        Assert.False(SameArray(data, parsed.Put.Value)); // the parser copies

        Assert.True(EntryValueSharing.Share(data, parsed.Put));

        Assert.True(SameArray(data, parsed.Put.Value));
        Assert.Equal(Value, parsed.Put.Value);
        Assert.Equal(5, parsed.Put.Lease);
        Assert.True(parsed.Put.PrevKv);
    }

    [Fact]
    public void A_value_smaller_than_half_its_entry_keeps_its_own_copy()
    {
        var key = ByteString.CopyFrom(new byte[300]);
        var data = new InternalRequest { Id = 7, Put = new PutRequest { Key = key, Value = ByteString.CopyFromUtf8("small") } }.ToByteString();
        var parsed = InternalRequest.Parser.ParseFrom(data.Span);

        Assert.False(EntryValueSharing.Share(data, parsed.Put));
        Assert.False(SameArray(data, parsed.Put.Value));
        Assert.Equal("small", parsed.Put.Value.ToStringUtf8());
    }

    [Fact]
    public void An_entry_laid_out_unexpectedly_keeps_the_parsed_value()
    {
        // Two put fields merge when parsed: the value comes from the first, which the locator
        // (looking at the last put field) does not find; the parsed value must survive unchanged.
        var first = new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = Value } }.ToByteArray();
        var second = new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8("k") } }.ToByteArray();
        var data = ByteString.CopyFrom([.. first, .. second]);
        var parsed = InternalRequest.Parser.ParseFrom(data.Span);
        Assert.Equal(Value, parsed.Put.Value);

        Assert.False(EntryValueSharing.Share(data, parsed.Put));
        Assert.Equal(Value, parsed.Put.Value);
    }

    [Fact]
    public void A_truncated_entry_is_not_shared_from()
    {
        var data = new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = Value } }.ToByteString();
        var parsed = InternalRequest.Parser.ParseFrom(data.Span);
        var truncated = ByteString.CopyFrom(data.Span[..^1]);

        Assert.False(EntryValueSharing.Share(truncated, parsed.Put));
        Assert.Equal(Value, parsed.Put.Value);
    }

    [Fact]
    public void An_applied_put_stores_a_value_backed_by_the_log_entry()
    {
        var machine = new ServerStateMachine(new ServerOptions());
        var entry = new Entry
        {
            Index = 1, Term = 1, Type = EntryType.EntryNormal,
            Data = new InternalRequest { Id = 3, Put = new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = Value } }.ToByteString(),
        };

        var (id, result) = machine.Apply(entry);

        Assert.Equal(3UL, id);
        Assert.Null(result.Error);
        var stored = Assert.Single(machine.Store.ReadView.Range(KeyRange.Single(ByteString.CopyFromUtf8("k"))).Kvs);
        Assert.Equal(Value, stored.Value);
        Assert.True(SameArray(entry.Data, stored.Value));
    }

    private static bool SameArray(ByteString a, ByteString b) =>
        MemoryMarshal.TryGetArray(a.Memory, out var x) && MemoryMarshal.TryGetArray(b.Memory, out var y) && ReferenceEquals(x.Array, y.Array);
}
