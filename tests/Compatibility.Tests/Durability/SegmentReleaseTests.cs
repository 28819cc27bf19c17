using Coordination.Compatibility.Tests.Fixtures;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Coordination.Compatibility.Tests.Durability;

/// <summary>
/// Log release at process level. Segments are cut at 64 MiB (not configurable by flag), so the test
/// writes ~100 MiB of large values, compacting as it goes to keep the snapshot images small, with
/// <c>--snapshot-count 20</c>. A snapshot taken after the cut must release the first segment; after
/// a SIGKILL the server recovers from the snapshot plus the remaining segments.
/// </summary>
public sealed class SegmentReleaseTests
{
    private const int ValueBytes = 1_400_000;
    private const int Puts = 72;

    [Fact]
    public async Task Snapshot_releases_old_segments_and_state_survives_a_kill()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await CoordinationProcess.StartNewAsync(["--snapshot-count", "20"], ct);
        var options = new CallOptions(deadline: DateTime.UtcNow.AddMinutes(2), cancellationToken: ct);
        var acknowledged = new Dictionary<string, (byte Fill, long Revision)>(StringComparer.Ordinal);
        var firstSegment = "";
        var sawTwoSegments = false;
        using (var channel = server.OpenChannel())
        {
            var kv = new KV.KVClient(channel);
            for (var i = 0; i < Puts; i++)
            {
                var key = $"seg/k{i % 6}";
                var fill = (byte)('a' + (i % 26));
                var put = await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFrom(Enumerable.Repeat(fill, ValueBytes).ToArray()) }, options);
                acknowledged[key] = (fill, put.Header.Revision);
                if (i % 6 == 5)
                {
                    await kv.CompactAsync(new CompactionRequest { Revision = put.Header.Revision }, options);
                }

                var segments = WalFile.Segments(server.WalDir);
                if (i == 0)
                {
                    firstSegment = Path.GetFileName(segments[0]);
                }

                sawTwoSegments |= segments.Count >= 2;
            }
        }

        // Snapshots are written in the background at the lowest CPU priority, so on a busy machine
        // the release can trail the last acknowledged put; a finished snapshot starts the next one
        // when the log has grown past --snapshot-count meanwhile, with no further writes needed.
        var remaining = WalFile.Segments(server.WalDir).Select(Path.GetFileName).ToList();
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); remaining.Contains(firstSegment) && waited.Elapsed < TimeSpan.FromSeconds(90);)
        {
            await Task.Delay(100, ct);
            remaining = WalFile.Segments(server.WalDir).Select(Path.GetFileName).ToList();
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"segments at the end: {string.Join(", ", remaining)}; snapshots: {string.Join(", ", Directory.GetFiles(server.SnapDir).Select(Path.GetFileName))}");
        Assert.True(sawTwoSegments, "the log never grew to a second segment; the test wrote too little to exercise release");
        Assert.DoesNotContain(firstSegment, remaining);
        Assert.NotEmpty(Directory.GetFiles(server.SnapDir, "*.snap"));

        server.Kill();
        await server.RestartAsync(ct);
        using (var channel = server.OpenChannel())
        {
            var kv = new KV.KVClient(channel);
            var keys = await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("seg/"), RangeEnd = ByteString.CopyFromUtf8("seg0"), KeysOnly = true }, options);
            Assert.Equal(acknowledged.Keys.Order(StringComparer.Ordinal), keys.Kvs.Select(k => k.Key.ToStringUtf8()));
            foreach (var (key, (fill, revision)) in acknowledged)
            {
                // One key per call: all values together exceed the client's 4 MiB receive limit.
                var item = Assert.Single((await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, options)).Kvs);
                Assert.Equal(revision, item.ModRevision);
                Assert.Equal(ValueBytes, item.Value.Length);
                Assert.True(item.Value.Span.IndexOfAnyExcept(fill) < 0, $"{item.Key.ToStringUtf8()}: value bytes differ from what was acknowledged");
            }

            var put = await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("seg/after"), Value = ByteString.CopyFromUtf8("ok") }, options);
            Assert.True(put.Header.Revision > acknowledged.Values.Max(v => v.Revision));
        }
    }
}
