using Coordination.Server.Errors;
using Google.Protobuf;
using Mvccpb;

namespace Coordination.Server.Mvcc;

/// <summary>
/// The store's write transaction. Changes go into a private working tree derived from the
/// published root; <see cref="End"/> hands the result to the store, which publishes it atomically.
/// </summary>
internal sealed class MvccWriteTxn : IMvccWriteTxn
{
    private readonly MvccStore _store;
    private readonly MvccReadView _base;
    private readonly long _epoch;
    private readonly List<Event> _events = [];
    private readonly List<KeyValue?> _previous = [];
    private List<LeaseChange>? _leaseChanges; // most writes touch no lease: allocated on the first change
    private BTreeNode _root;
    private long _sizeDelta;
    private bool _finished;

    /// <summary>Starts a transaction over <paramref name="published"/>, owning nodes of <paramref name="epoch"/>.</summary>
    public MvccWriteTxn(MvccStore store, MvccReadView published, long epoch)
    {
        _store = store;
        _base = published;
        _epoch = epoch;
        _root = published.Root;
    }

    /// <summary>The revision this transaction commits at if it writes anything.</summary>
    public long CommitRevision => _base.Revision + 1;

    /// <inheritdoc />
    /// <remarks>As in etcd: the published revision until the first change, then the commit revision.</remarks>
    public long Revision => _events.Count > 0 ? CommitRevision : _base.Revision;

    /// <inheritdoc />
    public long CompactRevision => _base.CompactRevision;

    /// <inheritdoc />
    public IReadOnlyList<Event> Changes => _events;

    /// <inheritdoc />
    public MvccRangeResult Range(KeyRange range, MvccRangeOptions options = default)
    {
        EnsureOpen();
        long revision = MvccReads.ResolveRevision(options.Revision, Revision, CompactRevision);
        return MvccReads.Range(_root, range, revision, Revision, options.Limit, options.CountOnly);
    }

    /// <inheritdoc />
    public long Put(ByteString key, ByteString value, long lease)
    {
        EnsureOpen();
        if (key.IsEmpty)
        {
            throw EtcdErrors.EmptyKey.ToException();
        }

        var revision = new Revision(CommitRevision, _events.Count);
        KeyHistory? history = PersistentBTree.Find(_root, key);
        KeyValue? previous = null;
        long createRevision = revision.Main;
        long version = 1;
        long oldLease = 0;
        if (history is not null && history.IsLive)
        {
            ref readonly KeyRecord latest = ref history.Latest;
            previous = history.ToKeyValue(latest);
            createRevision = latest.CreateRevision;
            version = latest.Version + 1;
            oldLease = latest.Lease;
        }

        var record = new KeyRecord(revision, createRevision, version, value, lease);
        KeyHistory updated = history is null ? KeyHistory.Create(key, record) : history.Append(record);
        _root = PersistentBTree.Set(_root, updated, _epoch);
        _sizeDelta += MvccSize.Of(key, record);

        KeyValue kv = updated.ToKeyValue(record);
        _events.Add(new Event { Type = Event.Types.EventType.Put, Kv = kv });
        _previous.Add(previous);
        if (oldLease != lease)
        {
            if (oldLease != 0)
            {
                (_leaseChanges ??= []).Add(new LeaseChange(oldLease, key, Attached: false));
            }

            if (lease != 0)
            {
                (_leaseChanges ??= []).Add(new LeaseChange(lease, key, Attached: true));
            }
        }

        return revision.Main;
    }

    /// <inheritdoc />
    public (long Deleted, long Revision) DeleteRange(KeyRange range)
    {
        EnsureOpen();
        var live = new List<KeyHistory>();
        PersistentBTree.Scan(_root, range, history =>
        {
            if (history.IsLive)
            {
                live.Add(history);
            }

            return true;
        });

        foreach (KeyHistory history in live)
        {
            var revision = new Revision(CommitRevision, _events.Count);
            KeyValue previous = history.ToKeyValue(history.Latest);
            var tombstone = KeyRecord.Tombstone(revision);
            _root = PersistentBTree.Set(_root, history.Append(tombstone), _epoch);
            _sizeDelta += MvccSize.Of(history.Key, tombstone);
            _events.Add(new Event
            {
                Type = Event.Types.EventType.Delete,
                Kv = new KeyValue { Key = history.Key, ModRevision = revision.Main },
            });
            _previous.Add(previous);
            if (previous.Lease != 0)
            {
                (_leaseChanges ??= []).Add(new LeaseChange(previous.Lease, history.Key, Attached: false));
            }
        }

        return (live.Count, Revision);
    }

    /// <inheritdoc />
    public MvccCommit End()
    {
        EnsureOpen();
        _finished = true;
        if (_events.Count == 0)
        {
            _store.FinishWrite(null);
            return new MvccCommit(_base.Revision, [], [], []);
        }

        var published = new MvccReadView(_root, CommitRevision, _base.CompactRevision, _base.ApproximateSizeBytes + _sizeDelta);
        var commit = new MvccCommit(CommitRevision, _events, _previous, _leaseChanges ?? (IReadOnlyList<LeaseChange>)[]);
        _store.FinishWrite(published, commit);
        return commit;
    }

    /// <inheritdoc />
    public void Abort()
    {
        if (_finished)
        {
            return;
        }

        _finished = true;
        _store.FinishWrite(null);
    }

    /// <inheritdoc />
    public void Dispose() => Abort();

    private void EnsureOpen()
    {
        ObjectDisposedException.ThrowIf(_finished, this);
    }
}
