using System.Runtime.CompilerServices;
using Coordination.Server.Mvcc;
using Coordination.Server.Watch;
using Etcdserverpb;
using Google.Protobuf;
using Mvccpb;
using V3Electionpb;

namespace Coordination.Server.Concurrency;

/// <summary>
/// etcd's leader election over the key space. A candidate puts <c>name/&lt;lease hex&gt;</c> with
/// its value and leads once every key under <c>name/</c> created before its own is deleted; the
/// leader is the first-created key. Proclaim and Resign act only while the candidate's key still
/// has the create revision it campaigned with.
/// </summary>
internal sealed class Elections(IConcurrencyStore store, IKeyWatcher watcher)
{
    private readonly PredecessorWait _wait = new(store, watcher);

    /// <summary>Waits until this candidate leads the election; returns its leader key.</summary>
    public async Task<CampaignResponse> CampaignAsync(CampaignRequest request, CancellationToken cancellationToken)
    {
        var leaseId = await SessionLease.ResolveAsync(store, request.Lease, cancellationToken).ConfigureAwait(false);
        var prefix = new KeyPrefix(request.Name);
        var key = prefix.KeyOf(leaseId);
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = request.Value, Lease = leaseId } });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = key } });
        var joined = await store.TxnAsync(txn, cancellationToken).ConfigureAwait(false);
        var leader = new LeaderKey { Name = request.Name, Key = key, Rev = joined.Header.Revision, Lease = leaseId };
        if (!joined.Succeeded)
        {
            var existing = joined.Responses[0].ResponseRange.Kvs[0];
            leader.Rev = existing.CreateRevision;
            if (existing.Value != request.Value)
            {
                try
                {
                    await ProclaimAsync(leader, request.Value, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    await ResignAsync(leader, CancellationToken.None).ConfigureAwait(false);
                    throw;
                }
            }
        }

        try
        {
            await _wait.WaitDeletesAsync(prefix, leader.Rev - 1, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The caller gave up: withdraw the candidacy.
            await ResignAsync(leader, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        return new CampaignResponse { Header = joined.Header, Leader = leader };
    }

    /// <summary>Publishes a new value while still leader; "election: not leader" otherwise.</summary>
    public async Task<ResponseHeader> ProclaimAsync(LeaderKey? leader, ByteString value, CancellationToken cancellationToken)
    {
        if (leader is null) throw ConcurrencyErrors.MissingLeaderKey.ToException();
        var txn = new TxnRequest();
        txn.Compare.Add(StillCandidate(leader));
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = leader.Key, Value = value, Lease = leader.Lease } });
        var response = await store.TxnAsync(txn, cancellationToken).ConfigureAwait(false);
        if (!response.Succeeded) throw ConcurrencyErrors.NotLeader.ToException();
        return response.Header;
    }

    /// <summary>Gives up leadership (deletes the key if it is still this candidate's); a no-op otherwise.</summary>
    public async Task<ResponseHeader> ResignAsync(LeaderKey? leader, CancellationToken cancellationToken)
    {
        if (leader is null) throw ConcurrencyErrors.MissingLeaderKey.ToException();
        var txn = new TxnRequest();
        txn.Compare.Add(StillCandidate(leader));
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = leader.Key } });
        var response = await store.TxnAsync(txn, cancellationToken).ConfigureAwait(false);
        return response.Header;
    }

    /// <summary>The current leader's key-value; "election: no leader" when nobody campaigns.</summary>
    public LeaderResponse Leader(ByteString name)
    {
        var owner = store.Range(new KeyPrefix(name).FirstCreated());
        if (owner.Kvs.Count == 0) throw ConcurrencyErrors.NoLeader.ToException();
        return new LeaderResponse { Header = owner.Header, Kv = owner.Kvs[0] };
    }

    /// <summary>
    /// Streams the leader: the current one (or, when there is none, the first to appear), every
    /// value it proclaims, and on its deletion the next leader, until cancelled.
    /// </summary>
    public async IAsyncEnumerable<LeaderResponse> ObserveAsync(ByteString name, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var prefix = new KeyPrefix(name);
        while (!cancellationToken.IsCancellationRequested)
        {
            var owner = store.Range(prefix.FirstCreated());
            KeyValue leader;
            long seenUpTo;
            if (owner.Kvs.Count > 0)
            {
                leader = owner.Kvs[0];
                seenUpTo = owner.Header.Revision;
                yield return new LeaderResponse { Header = owner.Header, Kv = leader };
            }
            else
            {
                leader = await FirstPutAsync(prefix, owner.Header.Revision, cancellationToken).ConfigureAwait(false);
                seenUpTo = leader.ModRevision;
                yield return new LeaderResponse { Header = store.Header(leader.ModRevision), Kv = leader };
            }

            // The leader's proclamations, until its key is deleted.
            var deleted = false;
            await foreach (var events in watcher.WatchAsync(KeyRange.Single(leader.Key), seenUpTo + 1, prevKv: false, cancellationToken).ConfigureAwait(false))
            {
                foreach (var e in events)
                {
                    if (e.Type == Event.Types.EventType.Delete)
                    {
                        deleted = true;
                        break;
                    }
                    yield return new LeaderResponse { Header = store.Header(e.Kv.ModRevision), Kv = e.Kv };
                }
                if (deleted) break;
            }
        }
    }

    private async Task<KeyValue> FirstPutAsync(KeyPrefix prefix, long fromRevision, CancellationToken cancellationToken)
    {
        var range = KeyRange.FromRequest(prefix.Prefix, KeyPrefix.RangeEndOf(prefix.Prefix));
        await foreach (var events in watcher.WatchAsync(range, fromRevision, prevKv: false, cancellationToken).ConfigureAwait(false))
        {
            foreach (var e in events)
            {
                if (e.Type == Event.Types.EventType.Put) return e.Kv;
            }
        }
        cancellationToken.ThrowIfCancellationRequested();
        throw new InvalidOperationException("the watch ended while waiting for a leader");
    }

    private static Compare StillCandidate(LeaderKey leader) => new()
    {
        Key = leader.Key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = leader.Rev,
    };
}
