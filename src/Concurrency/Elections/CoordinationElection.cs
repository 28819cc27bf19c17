using System.Runtime.CompilerServices;
using Coordination.Client;
using Coordination.Client.Kv;
using Coordination.Client.Watch;
using Coordination.Concurrency.Locking;

namespace Coordination.Concurrency.Elections;

/// <summary>etcd's election: our candidate key, waiting for every older candidate to go, then confirming our key survived.</summary>
internal sealed class CoordinationElection : ICoordinationElection
{
    private static readonly TimeSpan CleanupTimeout = TimeSpan.FromSeconds(5);

    private readonly ICoordinationSession? _session;
    private readonly ICoordinationClient _client;
    private readonly TimeProvider _time;
    private readonly string _prefix;

    public CoordinationElection(ICoordinationSession session, string name, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        _client = session.Client;
        _time = time;
        Name = name;
        _prefix = RecipeKeys.Prefix(name);
    }

    /// <summary>An election that only reads (Leader, Observe), without a session.</summary>
    public CoordinationElection(ICoordinationClient client, string name, TimeProvider time)
    {
        _client = client;
        _time = time;
        Name = name;
        _prefix = RecipeKeys.Prefix(name);
    }

    public string Name { get; }

    public async Task<ILeadership> CampaignAsync(string value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        var session = _session ?? throw new InvalidOperationException("This election was created without a session: it can observe but not campaign.");
        if (session.IsLost)
        {
            throw new SessionExpiredException(session.LeaseId, $"The session's lease {session.LeaseId:x} is lost.");
        }

        var key = RecipeKeys.For(_prefix, session.LeaseId);
        TxnResult created;
        try
        {
            created = await _client.Kv.Txn()
                .If(Compare.CreateRevision(key).Equal(0))
                .Then(TxnOp.Put(key, value, session.LeaseId))
                .Else(TxnOp.Get(key))
                .CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (EtcdLeaseNotFoundException)
        {
            throw new SessionExpiredException(session.LeaseId, $"The session's lease {session.LeaseId:x} no longer exists.");
        }

        long revision;
        if (created.Succeeded)
        {
            revision = created.Header.Revision;
        }
        else
        {
            var existing = created.Results[0].Range!.Kvs[0];
            revision = existing.CreateRevision;
            if (existing.ValueString != value)
            {
                await PutIfOursAsync(key, revision, value, session.LeaseId, cancellationToken).ConfigureAwait(false);
            }
        }

        try
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, session.SessionLost);
            await DeletionWaiter.WaitForPredecessorsAsync(_client, _prefix, revision - 1, wait.Token).ConfigureAwait(false);
            var mine = await _client.Kv.GetAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (mine is null || mine.CreateRevision != revision)
            {
                throw new SessionExpiredException(session.LeaseId, $"The session's lease {session.LeaseId:x} expired while campaigning in '{Name}'.");
            }

            return new Leadership(session, key, revision, _time);
        }
        catch (OperationCanceledException) when (session.IsLost && !cancellationToken.IsCancellationRequested)
        {
            await RemoveAsync(key, revision).ConfigureAwait(false);
            throw new SessionExpiredException(session.LeaseId, $"The session's lease {session.LeaseId:x} was lost while campaigning in '{Name}'.");
        }
        catch
        {
            await RemoveAsync(key, revision).ConfigureAwait(false);
            throw;
        }
    }

    public async Task<ElectionLeader?> GetLeaderAsync(CancellationToken cancellationToken = default)
    {
        var range = await _client.Kv.GetPrefixAsync(_prefix, new RangeOptions { SortTarget = SortTarget.CreateRevision, SortOrder = SortOrder.Ascending, Limit = 1 }, cancellationToken).ConfigureAwait(false);
        return range.Kvs.Count == 0 ? null : ToLeader(range.Kvs[0]);
    }

    public async IAsyncEnumerable<LeaderChange> ObserveAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ElectionLeader? last = null;
        var first = true;
        while (true)
        {
            var range = await _client.Kv.GetPrefixAsync(_prefix, cancellationToken: cancellationToken).ConfigureAwait(false);
            var candidates = range.Kvs.ToDictionary(kv => kv.KeyString);
            var leader = LeaderOf(candidates);
            if (first || leader != last)
            {
                first = false;
                last = leader;
                yield return new LeaderChange(leader, range.Header.Revision);
            }

            var subscription = await _client.Watch.WatchPrefixAsync(_prefix, new WatchOptions { StartRevision = range.Header.Revision + 1 }, cancellationToken).ConfigureAwait(false);
            await using (((IAsyncDisposable)subscription).ConfigureAwait(false))
            {
                var batches = subscription.GetAsyncEnumerator(cancellationToken);
                await using (batches.ConfigureAwait(false))
                {
                    while (await NextOrCompactedAsync(batches).ConfigureAwait(false) is { } batch)
                    {
                        foreach (var change in batch.Events)
                        {
                            if (change.Type == WatchEventType.Put)
                            {
                                candidates[change.Kv.KeyString] = change.Kv;
                            }
                            else
                            {
                                candidates.Remove(change.Kv.KeyString);
                            }
                        }

                        leader = LeaderOf(candidates);
                        if (leader != last)
                        {
                            last = leader;
                            yield return new LeaderChange(leader, batch.Revision);
                        }
                    }
                }
            }

            // The watch ended (its start revision was compacted): read the candidates again.
        }
    }

    private static async Task<WatchBatch?> NextOrCompactedAsync(IAsyncEnumerator<WatchBatch> batches)
    {
        try
        {
            return await batches.MoveNextAsync().ConfigureAwait(false) ? batches.Current : null;
        }
        catch (EtcdCompactedException)
        {
            return null;
        }
    }

    private static ElectionLeader? LeaderOf(Dictionary<string, KeyValue> candidates)
    {
        KeyValue? leader = null;
        foreach (var kv in candidates.Values)
        {
            if (leader is null || kv.CreateRevision < leader.CreateRevision)
            {
                leader = kv;
            }
        }

        return leader is null ? null : ToLeader(leader);
    }

    private static ElectionLeader ToLeader(KeyValue kv) => new(kv.KeyString, kv.ValueString, kv.CreateRevision, kv.ModRevision, kv.Lease);

    private async Task PutIfOursAsync(string key, long revision, string value, long leaseId, CancellationToken cancellationToken)
    {
        var result = await _client.Kv.Txn()
            .If(Compare.CreateRevision(key).Equal(revision))
            .Then(TxnOp.Put(key, value, leaseId))
            .CommitAsync(cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new ElectionNotLeaderException(key);
        }
    }

    private async Task RemoveAsync(string key, long revision)
    {
        try
        {
            using var bounded = new CancellationTokenSource(CleanupTimeout, _time);
            await _client.Kv.Txn()
                .If(Compare.CreateRevision(key).Equal(revision))
                .Then(TxnOp.Delete(key))
                .CommitAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is EtcdException or OperationCanceledException)
        {
            // the candidacy stays until the session's lease ends
        }
    }
}
