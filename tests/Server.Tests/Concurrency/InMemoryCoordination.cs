using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Coordination.Server.Apply;
using Coordination.Server.Concurrency;
using Coordination.Server.Lease;
using Coordination.Server.Mvcc;
using Coordination.Server.Watch;
using Etcdserverpb;
using Mvccpb;

namespace Coordination.Server.Tests.Concurrency;

/// <summary>
/// A member without raft or gRPC for the Lock and Election logic: the real store, KV applier and
/// lease applier behind one lock (the single writer), and an in-test <see cref="IKeyWatcher"/>
/// that replays recorded revisions from a start revision, then follows new ones. Revoking a
/// lease here is what the expiry schedule would propose.
/// </summary>
internal sealed class InMemoryCoordination : IConcurrencyStore, IKeyWatcher, IMvccCommitObserver
{
    private readonly Lock _writer = new();
    private readonly MvccStore _store;
    private readonly Lessor _lessor = new();
    private readonly KvApplier _kv;
    private readonly LeaseApplier _leases;
    private readonly List<MvccCommit> _history = [];
    private readonly List<Subscriber> _subscribers = [];
    private long _nextLeaseId = 0x1a2b0;

    public InMemoryCoordination()
    {
        _store = new MvccStore(this);
        _kv = new KvApplier(_store, _lessor);
        _leases = new LeaseApplier(_store, _lessor, minTtlSeconds: 2);
    }

    /// <summary>Breaks the store for negative controls: ranges bounded by a max create revision
    /// (the "who was queued before me" question) answer nothing.</summary>
    public bool HidePredecessors { get; set; }

    public long Revision => _store.Revision;

    public bool Exists(string key) => _store.ReadView.Range(KeyRange.Single(Google.Protobuf.ByteString.CopyFromUtf8(key))).Kvs.Count > 0;

    public void Revoke(long leaseId)
    {
        lock (_writer) _leases.Revoke(new LeaseRevokeRequest { ID = leaseId });
    }

    public RangeResponse Range(RangeRequest request) =>
        HidePredecessors && request.MaxCreateRevision != 0
            ? new RangeResponse { Header = new ResponseHeader { Revision = _store.Revision } }
            : KvApplier.Range(_store.ReadView, request);

    public Task<TxnResponse> TxnAsync(TxnRequest request, CancellationToken cancellationToken)
    {
        lock (_writer) return Task.FromResult(_kv.Txn(request));
    }

    public Task<DeleteRangeResponse> DeleteRangeAsync(DeleteRangeRequest request, CancellationToken cancellationToken)
    {
        lock (_writer) return Task.FromResult(_kv.DeleteRange(request));
    }

    public Task<LeaseGrantResponse> LeaseGrantAsync(LeaseGrantRequest request, CancellationToken cancellationToken)
    {
        lock (_writer)
        {
            if (request.ID == 0) request = new LeaseGrantRequest { ID = ++_nextLeaseId, TTL = request.TTL };
            return Task.FromResult(_leases.Grant(request));
        }
    }

    public ResponseHeader Header(long revision) => new() { Revision = revision };

    void IMvccCommitObserver.OnCommit(MvccCommit commit)
    {
        // Called under _writer (every write takes it).
        _history.Add(commit);
        foreach (var subscriber in _subscribers) subscriber.Offer(commit);
    }

    public async IAsyncEnumerable<IReadOnlyList<Event>> WatchAsync(KeyRange range, long startRevision, bool prevKv, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var subscriber = new Subscriber(range, startRevision == 0 ? _store.Revision + 1 : startRevision);
        lock (_writer)
        {
            foreach (var commit in _history) subscriber.Offer(commit);
            _subscribers.Add(subscriber);
        }
        try
        {
            await foreach (var events in subscriber.Events.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false)) yield return events;
        }
        finally
        {
            lock (_writer) _subscribers.Remove(subscriber);
        }
    }

    private sealed class Subscriber(KeyRange range, long fromRevision)
    {
        public Channel<IReadOnlyList<Event>> Events { get; } = Channel.CreateUnbounded<IReadOnlyList<Event>>();

        public void Offer(MvccCommit commit)
        {
            if (commit.Revision < fromRevision) return;
            var matching = commit.Events.Where(e => range.Contains(e.Kv.Key)).ToList();
            if (matching.Count > 0) Events.Writer.TryWrite(matching);
        }
    }
}
