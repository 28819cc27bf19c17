using System.Collections.Concurrent;
using System.Diagnostics;
using Coordination.Testing.Linearizability;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Coordination.Compatibility.Tests.Cluster;

/// <summary>
/// SIGKILL of the leader of a three-member cluster while clients write through every member: a new
/// leader is elected within about two election timeouts, no acknowledged write is lost, the history
/// of a concurrent read/write workload is linearizable, and the killed member restarts, catches up
/// and ends with the same key-value hash as the others.
/// </summary>
[Collection(LocalCluster.Collection)]
public sealed class LeaderFailoverTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Killing_the_leader_loses_no_acknowledged_write_and_the_member_catches_up()
    {
        await using var cluster = await LocalCluster.StartAsync(3, Ct);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(10), Ct);
        var leaderId = (await leader.TryStatusAsync(Ct))?.Header.MemberId ?? 0;
        var clock = Stopwatch.StartNew();
        var acknowledged = new ConcurrentDictionary<string, string>();
        var history = new ConcurrentQueue<Operation<KvInput, string?>>();
        using var stop = new CancellationTokenSource();

        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() => WriteAsync(cluster, w, acknowledged, stop.Token))).ToList();
        var registers = Enumerable.Range(0, 3).Select(c => Task.Run(() => ReadWriteRegistersAsync(cluster, c, clock, history, stop.Token))).ToList();

        await Task.Delay(1000, Ct);
        var beforeKill = acknowledged.Count;
        leader.Kill();
        var killedAt = clock.Elapsed;
        var newLeader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(10), Ct);
        var failover = clock.Elapsed - killedAt;
        var afterFailover = acknowledged.Count;
        await Task.Delay(2500, Ct);
        await stop.CancelAsync();
        await Task.WhenAll(writers.Concat(registers));

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"failover {failover.TotalMilliseconds:F0} ms; acknowledged {beforeKill} before the kill, {acknowledged.Count} in all; {history.Count} register operations");
        Assert.NotSame(leader, newLeader);
        Assert.True(beforeKill > 0, "no write was acknowledged before the kill");
        Assert.True(acknowledged.Count > afterFailover, "no write was acknowledged after the new leader was elected");
        // Detection needs one election timeout (randomized up to two), then a pre-vote and a vote round.
        Assert.True(failover < TimeSpan.FromMilliseconds(2 * LocalCluster.ElectionTimeoutMs + 1500),
            $"a new leader took {failover.TotalMilliseconds:F0} ms");

        // The survivors found the killed leader's port closed rather than waiting out their election
        // timeout (the failover's time is not asserted more closely: CI's cores are shared).
        Assert.Contains(cluster.Members.Where(m => m.IsRunning), m => m.Log.ToString().Contains(
            $"leader {leaderId:x} refused a connection, its process is gone", StringComparison.Ordinal));

        // Operators see the election in every survivor's log, as etcd logs "elected leader".
        var newLeaderId = (await newLeader.TryStatusAsync(Ct))?.Header.MemberId ?? 0;
        foreach (var member in cluster.Members.Where(m => m.IsRunning))
            Assert.Contains($"elected leader {newLeaderId:x} at term", member.Log.ToString(), StringComparison.Ordinal);

        // Every acknowledged write is on every surviving member (linearizable reads).
        foreach (var member in cluster.Members.Where(m => m.IsRunning))
            await AssertHoldsAsync(member, acknowledged, serializable: false);

        var verdict = LinearizabilityChecker.Check(KvModel.Instance, history);
        Assert.True(verdict.IsLinearizable, $"{verdict.Verdict} on {verdict.Partition}: {verdict.Explanation}");
        Assert.True(history.Count(o => !o.OutcomeUnknown) > 20, "too few completed operations to mean anything");

        // The killed member restarts on its data directory, catches up and agrees.
        leader.Start(string.Join(",", cluster.Members.Select(m => $"{m.Name}={m.PeerUrl}")), "new");
        await ClusterMembershipTests.WaitForEqualHashesAsync(cluster, newLeader, 3);
        await AssertHoldsAsync(leader, acknowledged, serializable: true);
    }

    [Fact]
    public async Task A_leader_asked_to_stop_hands_leadership_over_before_it_goes()
    {
        await using var cluster = await LocalCluster.StartAsync(3, Ct);
        var leader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(10), Ct);
        var term = (await leader.TryStatusAsync(Ct))?.RaftTerm ?? 0;

        await leader.TerminateAsync(); // SIGTERM

        // The old leader says whom it handed over to (an election after its exit would log nothing there).
        var newLeader = await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(10), Ct);
        var newLeaderId = await LocalCluster.MemberIdAsync(newLeader, Ct);
        Assert.True(leader.Log.ToString().Contains($"handed leadership to member {newLeaderId:x} before stopping", StringComparison.Ordinal),
            "no hand-over logged\n" + leader.Log.Tail());
        Assert.Equal(term + 1, (await newLeader.TryStatusAsync(Ct))?.RaftTerm);
        await newLeader.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("after"), Value = ByteString.CopyFromUtf8("x") }, cancellationToken: Ct);
    }

    internal static async Task WriteAsync(LocalCluster cluster, int writer, ConcurrentDictionary<string, string> acknowledged, CancellationToken stop)
    {
        var members = cluster.Members.ToList();
        for (var seq = 0; !stop.IsCancellationRequested; seq++)
        {
            var member = members[(writer + seq) % members.Count];
            if (!member.IsRunning)
            {
                continue;
            }
            var key = $"w/{writer}/{seq:D6}";
            var value = $"{writer}.{seq}";
            try
            {
                await member.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) },
                    deadline: DateTime.UtcNow + CallDeadline);
                acknowledged[key] = value;
            }
            catch (RpcException)
            {
                // Unknown outcome: not acknowledged, so not checked.
                await Task.Delay(20, CancellationToken.None);
            }
        }
    }

    /// <summary>Puts and linearizable gets of three registers through all members, recorded for the checker.</summary>
    private static async Task ReadWriteRegistersAsync(LocalCluster cluster, int client, Stopwatch clock,
        ConcurrentQueue<Operation<KvInput, string?>> history, CancellationToken stop)
    {
        var members = cluster.Members.ToList();
        var random = new Random(client);
        for (var seq = 0; !stop.IsCancellationRequested; seq++)
        {
            var member = members[random.Next(members.Count)];
            if (!member.IsRunning) continue;
            var key = $"r/{random.Next(3)}";
            var isPut = random.Next(2) == 0;
            var input = isPut ? new KvInput(KvOp.Put, key, $"{client}.{seq}") : new KvInput(KvOp.Get, key);
            var call = clock.ElapsedTicks;
            try
            {
                string? output = null;
                if (isPut)
                {
                    await member.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(input.Value!) },
                        deadline: DateTime.UtcNow + CallDeadline);
                }
                else
                {
                    var range = await member.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, deadline: DateTime.UtcNow + CallDeadline);
                    output = range.Kvs.Count == 0 ? null : range.Kvs[0].Value.ToStringUtf8();
                }
                history.Enqueue(new Operation<KvInput, string?>(client, input, output, call, clock.ElapsedTicks));
            }
            catch (RpcException)
            {
                // A put may or may not have taken effect; a failed get constrains nothing.
                if (isPut) history.Enqueue(new Operation<KvInput, string?>(client, input, null, call, 0, OutcomeUnknown: true));
                await Task.Delay(20, CancellationToken.None);
            }
        }
    }

    internal static async Task AssertHoldsAsync(ClusterMember member, ConcurrentDictionary<string, string> acknowledged, bool serializable)
    {
        var range = await member.Kv.RangeAsync(new RangeRequest
        {
            Key = ByteString.CopyFromUtf8("w/"),
            RangeEnd = ByteString.CopyFromUtf8("w0"),
            Serializable = serializable,
        }, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: Ct);
        var stored = range.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), kv => kv.Value.ToStringUtf8());
        var missing = acknowledged.Where(a => !stored.TryGetValue(a.Key, out var v) || v != a.Value).Select(a => a.Key).ToList();
        Assert.True(missing.Count == 0, $"{member.Name} lacks {missing.Count} of {acknowledged.Count} acknowledged writes, e.g. {string.Join(", ", missing.Take(5))}");
    }
}
