using Coordination.Server.Mvcc;
using Coordination.Server.Tests.Watch;
using Coordination.Server.Watch;
using Mvccpb;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Cluster;

/// <summary>
/// A follower that installs a snapshot from the leader replaces its store's contents in place: the
/// watchers synced on it must still see every revision after the one they had, taken from the
/// restored history.
/// </summary>
public sealed class SnapshotInstallWatchTests
{
    [Fact]
    public async Task Synced_watchers_catch_up_from_the_restored_history()
    {
        // The leader's store went on to revisions 3 and 4 that this member never applied one by one.
        var leader = new MvccStore();
        foreach (var (key, value) in new[] { ("k", "1"), ("k", "2"), ("k", "3") })
        {
            using var txn = leader.BeginWrite();
            txn.Put(B(key), B(value), 0);
            txn.End();
        }
        var follower = new WatchTestKit();
        follower.Put("k", "1");
        IKeyWatcher hub = follower.Hub;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await using var events = hub.WatchAsync(KeyRange.Single(B("k")), 0, prevKv: false, cts.Token).GetAsyncEnumerator(cts.Token);
        var first = events.MoveNextAsync(); // synced at revision 2, waiting

        using (var image = new MemoryStream())
        {
            leader.WriteImage(image);
            image.Position = 0;
            follower.Store.Restore(image);
        }
        follower.Hub.StoreRestored();

        Assert.True(await first);
        var seen = new List<Event>(events.Current);
        while (seen.Count < 2 && await events.MoveNextAsync()) seen.AddRange(events.Current);
        Assert.Equal(["PUT k=2@3", "PUT k=3@4"], seen.Select(EventText.Of));
    }
}
