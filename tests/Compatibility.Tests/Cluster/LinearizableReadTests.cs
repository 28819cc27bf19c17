using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Coordination.Compatibility.Tests.Cluster;

/// <summary>
/// Linearizable reads (ReadIndex) sent to every member at once all answer: reads forwarded from the
/// followers meet the leader's own reads in its queue, and none may be taken for another. (Read
/// contexts were once a per-member counter, so equal on every member; the leader ignored a
/// follower's read whose context it already held, and that read waited out the request timeout.)
/// </summary>
[Collection(LocalCluster.Collection)]
public sealed class LinearizableReadTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Concurrent_linearizable_reads_on_every_member_all_answer_promptly()
    {
        await using var cluster = await LocalCluster.StartAsync(3, Ct);
        await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(10), Ct);
        await cluster.Members[0].Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("r"), Value = ByteString.CopyFromUtf8("v") }, cancellationToken: Ct);

        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var readers = cluster.Members.SelectMany(member => Enumerable.Range(0, 4).Select(r => Task.Run(async () =>
        {
            for (var i = 0; i < 150; i++)
            {
                try
                {
                    var response = await member.Kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("r") },
                        deadline: DateTime.UtcNow.AddSeconds(3), cancellationToken: Ct);
                    if (response.Kvs.Count != 1) failures.Enqueue($"{member.Name} read {i}: {response.Kvs.Count} keys");
                }
                catch (RpcException ex)
                {
                    failures.Enqueue($"{member.Name} reader {r} read {i}: {ex.Status}");
                }
            }
        }))).ToList();
        await Task.WhenAll(readers);

        Assert.True(failures.IsEmpty, $"{failures.Count} of 1800 linearizable reads failed:\n  " + string.Join("\n  ", failures.Take(10)));
    }
}
