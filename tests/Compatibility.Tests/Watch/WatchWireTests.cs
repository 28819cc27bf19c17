using Coordination.Compatibility.Tests.BadInput;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Coordination.Compatibility.Tests.Watch;

/// <summary>
/// The Watch RPC's edge cases at the wire, run as one script on one stream against our server and
/// a real etcd 3.4, responses compared field by field (cluster id, member id and raft term cleared).
/// </summary>
public sealed class WatchWireTests
{
    private static readonly ByteString Zero = ByteString.CopyFrom(0);

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task Ids_errors_cancels_progress_and_compaction_match_etcd()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var (ours, etcd) = await GrpcSide.StartPairAsync(ct);
        await using GrpcSide oursScope = ours;
        await using GrpcSide etcdScope = etcd;
        Task<List<string>> mine = ScriptAsync(ours, ct);
        Task<List<string>> theirs = ScriptAsync(etcd, ct);
        List<string>[] both = await Task.WhenAll(mine, theirs);
        Assert.Equal(both[1], both[0]);
    }

    [Fact]
    public async Task A_large_history_is_fragmented_only_for_watchers_that_asked_as_etcd_does()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var (ours, etcd) = await GrpcSide.StartPairAsync(ct);
        await using GrpcSide oursScope = ours;
        await using GrpcSide etcdScope = etcd;
        List<string>[] both = await Task.WhenAll(FragmentScriptAsync(ours, ct), FragmentScriptAsync(etcd, ct));
        Assert.Equal(both[1], both[0]);
        Assert.Contains(both[0], line => line.StartsWith("fragment=True", StringComparison.Ordinal));
    }

    /// <summary>25 values of 100 kB (2.5 MB of history, above max-request-bytes + 512 KiB), replayed to a
    /// watcher with fragment=true and to one without; returns the shape of each response.</summary>
    private static async Task<List<string>> FragmentScriptAsync(GrpcSide side, CancellationToken ct)
    {
        for (int i = 0; i < 25; i++)
        {
            await side.Kv.PutAsync(new PutRequest { Key = B($"f/{i:D2}"), Value = ByteString.CopyFrom(new byte[100_000]) }, cancellationToken: ct);
        }

        var log = new List<string>();
        var watch = new Etcdserverpb.Watch.WatchClient(side.Channel);
        foreach (bool fragment in new[] { true, false })
        {
            using var call = watch.Watch(cancellationToken: ct, deadline: DateTime.UtcNow.AddSeconds(30));
            await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("f/"), RangeEnd = B("f0"), StartRevision = 1, Fragment = fragment } }, ct);
            int events = 0;
            while (events < 25)
            {
                Assert.True(await call.ResponseStream.MoveNext(ct), $"{side.Name}: stream ended");
                WatchResponse r = call.ResponseStream.Current;
                events += r.Events.Count;
                log.Add($"fragment={r.Fragment} created={r.Created} events={r.Events.Count} first={r.Events.FirstOrDefault()?.Kv.ModRevision} header={r.Header.Revision}");
            }

            await call.RequestStream.CompleteAsync();
        }

        return log;
    }

    /// <summary>Runs the script and returns every response received, in order, normalized.</summary>
    private static async Task<List<string>> ScriptAsync(GrpcSide side, CancellationToken ct)
    {
        var log = new List<string>();
        var watch = new Etcdserverpb.Watch.WatchClient(side.Channel);
        using var call = watch.Watch(cancellationToken: ct, deadline: DateTime.UtcNow.AddSeconds(30));
        var responses = call.ResponseStream;

        async Task Send(WatchRequest request, int expect, string label)
        {
            await call.RequestStream.WriteAsync(request, ct);
            for (int i = 0; i < expect; i++)
            {
                Assert.True(await responses.MoveNext(ct), $"{side.Name}: stream ended at {label}");
                WatchResponse r = responses.Current.Clone();
                r.Header.ClusterId = 0;
                r.Header.MemberId = 0;
                r.Header.RaftTerm = 0;
                log.Add($"{label}: {r}");
            }
        }

        static WatchRequest Create(WatchCreateRequest create) => new() { CreateRequest = create };

        await side.Kv.PutAsync(new PutRequest { Key = B("a"), Value = B("1") }, cancellationToken: ct);
        await Send(Create(new WatchCreateRequest { Key = B("a") }), 1, "auto id");
        await Send(Create(new WatchCreateRequest { Key = B("b"), WatchId = 5 }), 1, "client id");
        await Send(Create(new WatchCreateRequest { Key = B("c"), WatchId = 5 }), 1, "duplicate id");
        await Send(Create(new WatchCreateRequest { Key = B("b"), RangeEnd = B("a") }), 1, "range end below key");
        await Send(Create(new WatchCreateRequest { Key = B("b"), RangeEnd = B("b") }), 1, "range end equal to key");
        await Send(Create(new WatchCreateRequest { RangeEnd = Zero, PrevKv = true }), 1, "empty key, range end \\0");
        await Send(Create(new WatchCreateRequest { Key = B("a") }), 1, "next auto id");
        await Send(new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = 42 } }, 0, "cancel unknown");
        await Send(new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = 2 } }, 1, "cancel known");
        await Send(new WatchRequest { ProgressRequest = new WatchProgressRequest() }, 1, "progress");

        // One put reaches watch 0 (key a) and watch 1 (everything, prev_kv): one response each.
        await side.Kv.PutAsync(new PutRequest { Key = B("a"), Value = B("2") }, cancellationToken: ct);
        for (int i = 0; i < 2; i++)
        {
            Assert.True(await responses.MoveNext(ct));
            log.Add($"event: {Normalize(responses.Current)}");
        }

        log.Sort(StringComparer.Ordinal);
        await side.Kv.PutAsync(new PutRequest { Key = B("z"), Value = B("3") }, cancellationToken: ct);
        Assert.True(await responses.MoveNext(ct));
        log.Add($"event on z: {Normalize(responses.Current)}");

        await side.Kv.CompactAsync(new CompactionRequest { Revision = 4 }, cancellationToken: ct);
        await Send(Create(new WatchCreateRequest { Key = B("a"), StartRevision = 2 }), 2, "compacted start");
        await Send(Create(new WatchCreateRequest { Key = B("z"), StartRevision = 4, PrevKv = true }), 2, "start at compact revision");

        await call.RequestStream.CompleteAsync();
        return log;
    }

    private static string Normalize(WatchResponse response)
    {
        WatchResponse r = response.Clone();
        r.Header.ClusterId = 0;
        r.Header.MemberId = 0;
        r.Header.RaftTerm = 0;
        return r.ToString();
    }
}
