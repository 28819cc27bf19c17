using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Coordination.Compatibility.Tests.Fixtures;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Compatibility.Tests.Cluster;

/// <summary>
/// A three-member cluster of our server processes, seen through etcdctl: the member list, the
/// status of every member, growing it by a fourth member that joins with
/// <c>--initial-cluster-state existing</c>, handing leadership over, and removing a member.
/// </summary>
[Collection(LocalCluster.Collection)]
public sealed class ClusterMembershipTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Member_list_and_endpoint_status_cover_every_member()
    {
        await using var cluster = await LocalCluster.StartAsync(3, Ct);
        var member = cluster.Members[0];

        // Each member publishes its name and client URLs through the log once it runs.
        JsonElement[] members = [];
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var list = await LocalCluster.EtcdctlAsync(member, "json", Ct, "member", "list");
            Assert.True(list.ExitCode == 0, list.ToString());
            members = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("members").EnumerateArray().ToArray();
            if (members.All(m => m.TryGetProperty("clientURLs", out _))) break;
            await Task.Delay(100, Ct);
        }
        Assert.Equal(3, members.Length);
        foreach (var expected in cluster.Members)
        {
            var listed = Assert.Single(members, m => m.GetProperty("name").GetString() == expected.Name);
            Assert.Equal([expected.PeerUrl], listed.GetProperty("peerURLs").EnumerateArray().Select(u => u.GetString()));
            Assert.Equal([expected.ClientUrl], listed.GetProperty("clientURLs").EnumerateArray().Select(u => u.GetString()));
        }

        var status = await LocalCluster.EtcdctlAsync(member, "json", Ct, "endpoint", "status", "--cluster");
        Assert.True(status.ExitCode == 0, status.ToString());
        var statuses = JsonDocument.Parse(status.Stdout).RootElement.EnumerateArray().ToArray();
        Assert.Equal(cluster.Members.Select(m => m.ClientUrl).Order(), statuses.Select(s => s.GetProperty("Endpoint").GetString()).Order());
        var leaders = statuses.Select(s => s.GetProperty("Status").GetProperty("leader").GetUInt64()).Distinct().ToList();
        var leader = Assert.Single(leaders);
        Assert.Single(statuses, s => s.GetProperty("Status").GetProperty("header").GetProperty("member_id").GetUInt64() == leader);
        Assert.All(statuses, s => Assert.True(s.GetProperty("Status").GetProperty("raftTerm").GetUInt64() >= 1));
        // Response headers carry the raft term.
        var put = await member.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") }, cancellationToken: Ct);
        Assert.True(put.Header.RaftTerm >= 1);
    }

    [Fact]
    public async Task A_fourth_member_joins_takes_the_lead_and_a_member_is_removed()
    {
        await using var cluster = await LocalCluster.StartAsync(3, Ct);
        var first = cluster.Members[0];
        for (var i = 0; i < 20; i++)
            await first.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8($"before/{i}"), Value = ByteString.CopyFromUtf8($"{i}") }, cancellationToken: Ct);

        // etcdctl member add, then start the new member with existing.
        var fourth = cluster.NewMember("m4");
        var add = await LocalCluster.ReconfigureAsync(first, "json", Ct, "member", "add", fourth.Name, $"--peer-urls={fourth.PeerUrl}");
        Assert.True(add.ExitCode == 0, add.ToString());
        var added = JsonDocument.Parse(add.Stdout).RootElement;
        var fourthId = added.GetProperty("member").GetProperty("ID").GetUInt64();
        Assert.Equal(4, added.GetProperty("members").GetArrayLength());
        fourth.Start(string.Join(",", cluster.Members.Select(m => $"{m.Name}={m.PeerUrl}")), "existing");

        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(fourthId, await LocalCluster.MemberIdAsync(fourth, Ct));
        await WaitForEqualHashesAsync(cluster, first, 4);
        var copied = await fourth.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("before/"), RangeEnd = ByteString.CopyFromUtf8("before0"), Serializable = true }, cancellationToken: Ct);
        Assert.Equal(20, copied.Count);

        // move-leader: etcdctl finds the leader among the endpoints and asks it.
        Assert.NotSame(fourth, leader);
        var move = await Etcdctl.RunAsync(cluster.Endpoints, ["move-leader", fourthId.ToString("x")], "simple", cancellationToken: Ct);
        Assert.True(move.ExitCode == 0, move.ToString());
        Assert.Same(fourth, await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(10), Ct));

        // member remove of a follower: the list shrinks, and the removed member stops by itself.
        var removed = cluster.Members.First(m => m != fourth);
        var removedId = await LocalCluster.MemberIdAsync(removed, Ct);
        var remove = await LocalCluster.ReconfigureAsync(fourth, "json", Ct, "member", "remove", removedId.ToString("x"));
        Assert.True(remove.ExitCode == 0, remove.ToString());
        var list = await LocalCluster.EtcdctlAsync(fourth, "json", Ct, "member", "list");
        var ids = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("ID").GetUInt64()).ToList();
        Assert.Equal(3, ids.Count);
        Assert.DoesNotContain(removedId, ids);
        Assert.True(await removed.WaitForExitAsync(TimeSpan.FromSeconds(15)), "the removed member kept running\n" + removed.Log.Tail());
        await cluster.ForgetAsync(removed);

        // The remaining three still commit writes; removing an unknown member is refused as etcd does.
        await fourth.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("after"), Value = ByteString.CopyFromUtf8("x") }, cancellationToken: Ct);
        var again = await LocalCluster.ReconfigureAsync(fourth, "json", Ct, "member", "remove", removedId.ToString("x"));
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("etcdserver: member not found", again.Stderr);
        await WaitForEqualHashesAsync(cluster, fourth, 3);
    }

    [Fact]
    public async Task While_a_voter_is_down_changes_that_could_cost_the_quorum_are_refused_and_it_can_be_removed()
    {
        await using var cluster = await LocalCluster.StartAsync(3, Ct);
        var (first, second, third) = (cluster.Members[0], cluster.Members[1], cluster.Members[2]);
        // Healthy first: once the first member has reached both peers for 5 s it takes a learner,
        // which is removed again at once (removing a learner is never checked).
        var learner = await LocalCluster.ReconfigureAsync(first, "json", Ct, "member", "add", "l1", "--learner", "--peer-urls=http://127.0.0.1:1");
        Assert.True(learner.ExitCode == 0, learner.ToString());
        var learnerId = JsonDocument.Parse(learner.Stdout).RootElement.GetProperty("member").GetProperty("ID").GetUInt64();
        var dropLearner = await LocalCluster.EtcdctlAsync(first, "json", Ct, "member", "remove", learnerId.ToString("x"));
        Assert.True(dropLearner.ExitCode == 0, dropLearner.ToString());

        var secondId = await LocalCluster.MemberIdAsync(second, Ct);
        var thirdId = await LocalCluster.MemberIdAsync(third, Ct);
        var lostThird = $"cannot reach peer {thirdId:x}";
        var lostBefore = Regex.Count(first.Log.ToString(), Regex.Escape(lostThird));
        await cluster.ForgetAsync(third); // SIGKILL
        for (var waited = Stopwatch.StartNew(); Regex.Count(first.Log.ToString(), Regex.Escape(lostThird)) == lostBefore; await Task.Delay(20, Ct))
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(15), "the first member never noticed the third was gone\n" + first.Log.Tail());

        var add = await LocalCluster.EtcdctlAsync(first, "json", Ct, "member", "add", "m4", "--peer-urls=http://127.0.0.1:4");
        Assert.NotEqual(0, add.ExitCode);
        Assert.Contains("etcdserver: unhealthy cluster", add.Stderr);
        var removeReachable = await LocalCluster.EtcdctlAsync(first, "json", Ct, "member", "remove", secondId.ToString("x"));
        Assert.NotEqual(0, removeReachable.ExitCode);
        Assert.Contains("etcdserver: unhealthy cluster", removeReachable.Stderr);

        // The member that is down is not part of the working quorum: removing it is allowed.
        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(15), Ct);
        var removeDown = await LocalCluster.EtcdctlAsync(first, "json", Ct, "member", "remove", thirdId.ToString("x"));
        Assert.True(removeDown.ExitCode == 0, removeDown.ToString());
        var list = await LocalCluster.EtcdctlAsync(first, "json", Ct, "member", "list");
        var ids = JsonDocument.Parse(list.Stdout).RootElement.GetProperty("members").EnumerateArray().Select(m => m.GetProperty("ID").GetUInt64()).ToList();
        var firstId = await LocalCluster.MemberIdAsync(first, Ct);
        Assert.Equal(new[] { firstId, secondId }.Order(), ids.Order());
    }

    [Fact]
    public async Task A_member_removed_while_it_was_down_stops_when_it_comes_back()
    {
        await using var cluster = await LocalCluster.StartAsync(3, Ct);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(15), Ct);
        var away = cluster.Members.First(m => m != leader);
        var awayId = await LocalCluster.MemberIdAsync(away, Ct);
        away.Kill(); // its data directory stays

        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(15), Ct);
        var remove = await LocalCluster.EtcdctlAsync(leader, "json", Ct, "member", "remove", awayId.ToString("x"));
        Assert.True(remove.ExitCode == 0, remove.ToString());

        // Its own log does not hold the removal and nobody sends it anything: it learns it by asking.
        away.Start(string.Join(",", cluster.Members.Select(m => $"{m.Name}={m.PeerUrl}")), "new");
        Assert.True(await away.WaitForExitAsync(TimeSpan.FromSeconds(30)), "the removed member kept running\n" + away.Log.Tail());
        Assert.Contains("was removed from the cluster while it was away", away.Log.ToString(), StringComparison.Ordinal);
        await cluster.ForgetAsync(away);
        await leader.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("after"), Value = ByteString.CopyFromUtf8("x") }, cancellationToken: Ct);
    }

    [Fact]
    public async Task Membership_requests_get_etcds_errors()
    {
        await using var cluster = await LocalCluster.StartAsync(3, Ct);
        var member = cluster.Members[1];
        var taken = await LocalCluster.ReconfigureAsync(member, "json", Ct, "member", "add", "x", $"--peer-urls={cluster.Members[0].PeerUrl}");
        Assert.Contains("etcdserver: Peer URLs already exists", taken.Stderr);
        var learner = await LocalCluster.ReconfigureAsync(member, "json", Ct, "member", "add", "l1", "--learner", "--peer-urls=http://127.0.0.1:1");
        Assert.True(learner.ExitCode == 0, learner.ToString());
        Assert.True(JsonDocument.Parse(learner.Stdout).RootElement.GetProperty("member").GetProperty("isLearner").GetBoolean());
        var second = await LocalCluster.ReconfigureAsync(member, "json", Ct, "member", "add", "l2", "--learner", "--peer-urls=http://127.0.0.1:2");
        Assert.Contains("etcdserver: too many learner members in cluster", second.Stderr);
        var promoteVoter = await LocalCluster.ReconfigureAsync(member, "json", Ct, "member", "promote", (await LocalCluster.MemberIdAsync(member, Ct)).ToString("x"));
        Assert.Contains("etcdserver: can only promote a learner member", promoteVoter.Stderr);
        // MoveLeader is for the leader to answer.
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(10), Ct);
        var leaderId = await LocalCluster.MemberIdAsync(leader, Ct);
        var follower = cluster.Members.First(m => m != leader);
        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await follower.Maintenance.MoveLeaderAsync(new MoveLeaderRequest { TargetID = leaderId }, cancellationToken: Ct));
        Assert.Equal("etcdserver: not leader", error.Status.Detail);
        var learnerId = JsonDocument.Parse(learner.Stdout).RootElement.GetProperty("member").GetProperty("ID").GetUInt64();
        var toLearner = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await leader.Maintenance.MoveLeaderAsync(new MoveLeaderRequest { TargetID = learnerId }, cancellationToken: Ct));
        Assert.Equal("etcdserver: bad leader transferee", toLearner.Status.Detail);
    }

    [Fact]
    public async Task A_learner_catches_up_serves_only_serializable_reads_and_is_promoted()
    {
        await using var cluster = await LocalCluster.StartAsync(3, Ct);
        var first = cluster.Members[0];
        await first.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") }, cancellationToken: Ct);

        var learner = cluster.NewMember("l4");
        var add = await LocalCluster.ReconfigureAsync(first, "json", Ct, "member", "add", learner.Name, "--learner", $"--peer-urls={learner.PeerUrl}");
        Assert.True(add.ExitCode == 0, add.ToString());
        var learnerId = JsonDocument.Parse(add.Stdout).RootElement.GetProperty("member").GetProperty("ID").GetUInt64();
        learner.Start(string.Join(",", cluster.Members.Select(m => $"{m.Name}={m.PeerUrl}")), "existing");

        // A learner answers serializable reads (and status) only, so not hashkv: poll its copy of the key.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        RangeResponse? local = null;
        while (local is not { Count: 1 } && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            try { local = await learner.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k"), Serializable = true }, cancellationToken: Ct); }
            catch (Grpc.Core.RpcException) { }
            await Task.Delay(100, Ct);
        }
        Assert.True(local is { Count: 1 }, "the learner never received the key\n" + learner.Log.Tail());
        Assert.Equal("v", local.Kvs.Single().Value.ToStringUtf8());
        var status = await learner.TryStatusAsync(Ct);
        Assert.True(status is { IsLearner: true }, $"status: {status}");
        var linearizable = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await learner.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("k") }, cancellationToken: Ct));
        Assert.Equal("etcdserver: rpc not supported for learner", linearizable.Status.Detail);
        var write = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await learner.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("w") }, cancellationToken: Ct));
        Assert.Equal("etcdserver: rpc not supported for learner", write.Status.Detail);

        // etcdctl 3.4 crashes printing a promote response as JSON (its printer lacks MemberPromote).
        var promote = await LocalCluster.ReconfigureAsync(first, "simple", Ct, "member", "promote", learnerId.ToString("x"));
        Assert.True(promote.ExitCode == 0, promote.ToString());
        for (var attempt = 0; attempt < 100 && ((await learner.TryStatusAsync(Ct))?.IsLearner ?? true); attempt++) await Task.Delay(100, Ct);
        Assert.False((await learner.TryStatusAsync(Ct))?.IsLearner ?? true);
        await learner.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("promoted") }, cancellationToken: Ct);
        await WaitForEqualHashesAsync(cluster, first, 4);
    }

    /// <summary>Waits until <c>endpoint hashkv --cluster</c> lists <paramref name="members"/> members with one hash.</summary>
    internal static async Task WaitForEqualHashesAsync(LocalCluster cluster, ClusterMember via, int members)
    {
        EtcdctlResult? last = null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(45))
        {
            last = await LocalCluster.EtcdctlAsync(via, "json", Ct, "endpoint", "hashkv", "--cluster");
            if (last.ExitCode == 0)
            {
                var hashes = JsonDocument.Parse(last.Stdout).RootElement.EnumerateArray().Select(h => h.GetProperty("HashKV").GetProperty("hash").GetUInt32()).ToList();
                if (hashes.Count == members && hashes.Distinct().Count() == 1) return;
            }
            await Task.Delay(200, Ct);
        }
        Assert.Fail($"hashkv --cluster never agreed on {members} members: {last}\n{cluster.Logs()}");
    }
}
