using Coordination.Server.Mvcc;
using Coordination.Server.Watch;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Watch;

public class WatcherGroupTests
{
    private static readonly WatchStream Stream = new WatchHub(new WatchHubOptions(), TimeProvider.System).OpenStream();

    private static Watcher W(long id, string key, string? end = null) =>
        new(Stream, id, end is null ? KeyRange.Single(B(key)) : KeyRange.FromRequest(B(key), B(end)), 1, WatcherOptions.None);

    private static List<long> Match(WatcherGroup group, string key)
    {
        var found = new List<Watcher>();
        group.CollectMatches(B(key), found);
        return [.. found.Select(w => w.Id).Order()];
    }

    [Fact]
    public void Keys_prefixes_shared_intervals_and_open_ranges_match_as_their_ranges_say()
    {
        var group = new WatcherGroup();
        Watcher[] all = [W(1, "a"), W(2, "a"), W(3, "p/", "p0"), W(4, "p/", "p0"), W(5, "p/x", "p/y"), W(6, "m", "\0"), W(7, "b")];
        foreach (Watcher w in all) group.Add(w);
        Assert.Equal(7, group.Count);
        Assert.Equal([1L, 2L], Match(group, "a"));
        Assert.Equal([3L, 4L, 5L, 6L], Match(group, "p/xa"));
        Assert.Equal([3L, 4L, 6L], Match(group, "p/"));
        Assert.Equal([6L], Match(group, "p0"));
        Assert.Empty(Match(group, "0"));

        Assert.True(group.Remove(all[0]));
        Assert.True(group.Remove(all[3]));
        Assert.False(group.Remove(all[3]));
        Assert.Equal([2L], Match(group, "a"));
        Assert.Equal([3L, 5L, 6L], Match(group, "p/xa"));
        foreach (Watcher w in all) group.Remove(w);
        Assert.Equal(0, group.Count);
        Assert.Empty(Match(group, "p/xa"));
    }
}
