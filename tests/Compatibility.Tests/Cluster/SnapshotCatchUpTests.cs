using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Compatibility.Tests.Cluster;

/// <summary>
/// A member added after the leader has released the log's beginning from memory is caught up with
/// a snapshot: the leader's transport reads the image from its snapshot file and streams it; the
/// new member installs it (state machine, snapshot file, log marker), applies the entries after it,
/// and after a SIGKILL restarts from that snapshot.
/// </summary>
[Collection(LocalCluster.Collection)]
public sealed class SnapshotCatchUpTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_new_member_is_caught_up_with_a_snapshot_and_restarts_from_it()
    {
        // Snapshots every 100 entries; the core keeps 1000 applied entries in memory behind the
        // newest snapshot, so 1300 writes leave index 1 out of reach of an append. Values of 2 KiB
        // make an image of about 2.7 MB, sent in several 1 MiB chunks.
        await using var cluster = await LocalCluster.StartAsync(3, Ct, "--snapshot-count", "100");
        var first = cluster.Members[0];
        await Parallel.ForEachAsync(Enumerable.Range(0, 1300), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Ct }, async (i, ct) =>
            await first.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"k/{i:D4}"), Value = ByteString.CopyFromUtf8(new string((char)('a' + i % 26), 2048)) }, cancellationToken: ct));

        var fifth = cluster.NewMember("m5");
        var add = await LocalCluster.ReconfigureAsync(first, "json", Ct, "member", "add", fifth.Name, $"--peer-urls={fifth.PeerUrl}");
        Assert.True(add.ExitCode == 0, add.ToString());
        fifth.Start(string.Join(",", cluster.Members.Select(m => $"{m.Name}={m.PeerUrl}")), "existing");
        await ClusterMembershipTests.WaitForEqualHashesAsync(cluster, first, 4);
        Assert.Contains("installing snapshot from the leader", fifth.Log.ToString());
        var sent = cluster.Members.Select(m => Regex.Match(m.Log.ToString(), @"sent snapshot at index \d+ to peer [0-9a-f]+: (\d+) bytes in (\d+) chunks")).First(m => m.Success);
        Assert.True(int.Parse(sent.Groups[2].Value, CultureInfo.InvariantCulture) >= 2, sent.Value);
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(fifth.DataDir, "member", "snap"), "*.snap"));

        fifth.Kill();
        await first.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("after"), Value = ByteString.CopyFromUtf8("kill") }, cancellationToken: Ct);
        fifth.Start(string.Join(",", cluster.Members.Select(m => $"{m.Name}={m.PeerUrl}")), "existing");
        await ClusterMembershipTests.WaitForEqualHashesAsync(cluster, first, 4);
        var range = await fifth.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k/"), RangeEnd = ByteString.CopyFromUtf8("k0"), CountOnly = true, Serializable = true }, cancellationToken: Ct);
        Assert.Equal(1300, range.Count);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(10), Ct);
        var status = await LocalCluster.EtcdctlAsync(fifth, "json", Ct, "endpoint", "status");
        Assert.Equal(await LocalCluster.MemberIdAsync(leader, Ct),
            JsonDocument.Parse(status.Stdout).RootElement[0].GetProperty("Status").GetProperty("leader").GetUInt64());
    }
}
