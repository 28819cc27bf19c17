using Coordination.Server.Mvcc;
using Coordination.Server.Watch;
using Etcdserverpb;
using Microsoft.Extensions.Time.Testing;
using Mvccpb;
using static Coordination.Server.Tests.Mvcc.Bytes;

namespace Coordination.Server.Tests.Watch;

/// <summary>A store with a watch hub on it, a fake clock, a log of every commit, and write helpers.</summary>
internal sealed class WatchTestKit
{
    private readonly Lock _writer = new();

    public WatchTestKit(WatchHubOptions? options = null)
    {
        Time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        Hub = new WatchHub(options ?? new WatchHubOptions(), Time);
        Log = new CommitLog(Hub);
        Store = new MvccStore(Log);
        Hub.Attach(Store);
    }

    public FakeTimeProvider Time { get; }

    public WatchHub Hub { get; }

    public MvccStore Store { get; }

    /// <summary>Every commit, in order: the ground truth watchers are checked against.</summary>
    public CommitLog Log { get; }

    public long Put(string key, string value)
    {
        lock (_writer)
        {
            using IMvccWriteTxn txn = Store.BeginWrite();
            txn.Put(B(key), B(value), 0);
            return txn.End().Revision;
        }
    }

    public long PutMany(params (string Key, string Value)[] kvs)
    {
        lock (_writer)
        {
            using IMvccWriteTxn txn = Store.BeginWrite();
            foreach ((string key, string value) in kvs) txn.Put(B(key), B(value), 0);
            return txn.End().Revision;
        }
    }

    public long Delete(string key, string? end = null)
    {
        lock (_writer)
        {
            using IMvccWriteTxn txn = Store.BeginWrite();
            txn.DeleteRange(end is null ? KeyRange.Single(B(key)) : KeyRange.FromRequest(B(key), B(end)));
            return txn.End().Revision;
        }
    }

    public void Compact(long revision)
    {
        lock (_writer) Store.Compact(revision);
    }

    public static WatchCreateRequest Create(string key, string? end = null, long start = 0, bool prevKv = false, long id = 0,
        bool progress = false, params WatchCreateRequest.Types.FilterType[] filters)
    {
        var request = new WatchCreateRequest { Key = B(key), StartRevision = start, PrevKv = prevKv, WatchId = id, ProgressNotify = progress };
        if (end is not null) request.RangeEnd = B(end);
        request.Filters.AddRange(filters);
        return request;
    }

    /// <summary>The next response, failing the test after 10 s.</summary>
    public static async Task<WatchResponse> NextAsync(WatchStream stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        WatchOutbound? item = await stream.ReadAsync(timeout.Token);
        Assert.NotNull(item);
        return item.Value.Response;
    }

    /// <summary>Proves nothing else is queued: a progress request's answer (watch_id -1) comes next.</summary>
    public static async Task AssertNothingQueuedAsync(WatchStream stream)
    {
        stream.RequestProgress();
        WatchResponse next = await NextAsync(stream);
        Assert.Equal(-1, next.WatchId);
        Assert.Empty(next.Events);
    }

    /// <summary>Reads until <paramref name="count"/> events arrived (created/progress responses skipped).</summary>
    public static async Task<List<WatchResponse>> ReadEventsAsync(WatchStream stream, int count)
    {
        var responses = new List<WatchResponse>();
        int seen = 0;
        while (seen < count)
        {
            WatchResponse response = await NextAsync(stream);
            if (response.Events.Count == 0) continue;
            responses.Add(response);
            seen += response.Events.Count;
        }

        return responses;
    }
}

/// <summary>Records every commit and forwards it to the hub.</summary>
internal sealed class CommitLog(IMvccCommitObserver next) : IMvccCommitObserver
{
    private readonly List<MvccCommit> _commits = [];

    public void OnCommit(MvccCommit commit)
    {
        if (commit.HasChanges)
        {
            lock (_commits) _commits.Add(commit);
        }

        next.OnCommit(commit);
    }

    public IReadOnlyList<MvccCommit> Snapshot()
    {
        lock (_commits) return [.. _commits];
    }
}

internal static class EventText
{
    /// <summary>"PUT a=1@5" / "DEL a@6", with " prev=..." when a previous value is attached.</summary>
    public static string Of(Event e) =>
        (e.Type == Event.Types.EventType.Put ? $"PUT {S(e.Kv.Key)}={S(e.Kv.Value)}@{e.Kv.ModRevision}" : $"DEL {S(e.Kv.Key)}@{e.Kv.ModRevision}")
        + (e.PrevKv is null ? "" : $" prev={S(e.PrevKv.Value)}@{e.PrevKv.ModRevision}");
}
