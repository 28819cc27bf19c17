using Coordination.Server.Errors;

namespace Coordination.Server.Mvcc;

/// <summary>
/// The multi-version key-value store: one writer (the apply loop), any number of lock-free readers.
/// </summary>
/// <remarks>
/// <para>The state is an immutable <see cref="MvccReadView"/> (B+tree root, current revision,
/// compact revision, size) held in a volatile field. The writer builds the next state in a
/// <see cref="MvccWriteTxn"/> and publishes it with a single reference write when the transaction
/// ends, so a reader that took <see cref="ReadView"/> keeps a consistent snapshot for as long as
/// it holds it and never waits for the writer.</para>
/// <para>Only one write transaction or compaction may run at a time, on one thread; the store
/// checks this and throws rather than locking.</para>
/// </remarks>
internal sealed class MvccStore
{
    private readonly IMvccCommitObserver? _observer;
    private volatile MvccReadView _published;
    private long _epoch;
    private int _writing;

    /// <summary>A fresh store at revision 1.</summary>
    public MvccStore(IMvccCommitObserver? observer = null)
        : this(MvccReadView.Empty, observer)
    {
    }

    private MvccStore(MvccReadView initial, IMvccCommitObserver? observer)
    {
        _published = initial;
        _observer = observer;
        _epoch = 1;
    }

    /// <summary>The latest published state; immutable, safe to read from any thread.</summary>
    public MvccReadView ReadView => _published;

    /// <summary>The current store revision.</summary>
    public long Revision => _published.Revision;

    /// <summary>The revision of the last compaction (0 when never compacted).</summary>
    public long CompactRevision => _published.CompactRevision;

    /// <summary>Approximate bytes held by the kept history (quota and Status db size).</summary>
    public long ApproximateSizeBytes => _published.ApproximateSizeBytes;

    /// <summary>Starts the (single) write transaction.</summary>
    /// <exception cref="InvalidOperationException">Another write transaction or compaction is running.</exception>
    public IMvccWriteTxn BeginWrite()
    {
        EnterWriter();
        return new MvccWriteTxn(this, _published, _epoch);
    }

    /// <summary>
    /// Compacts at <paramref name="revision"/>: per key, history older than its newest record ≤
    /// revision is dropped (and that record too when it is a tombstone). Reads below
    /// <paramref name="revision"/> fail with Compacted afterwards. Does not change the revision.
    /// </summary>
    /// <exception cref="EtcdException">Compacted when revision ≤ the compact revision; FutureRevision when above the current revision.</exception>
    public void Compact(long revision)
    {
        MvccReadView view = _published;
        if (revision <= view.CompactRevision)
        {
            throw EtcdErrors.Compacted.ToException();
        }

        if (revision > view.Revision)
        {
            throw EtcdErrors.FutureRevision.ToException();
        }

        EnterWriter();
        try
        {
            _published = MvccCompactor.Compact(view, revision, _epoch);
        }
        finally
        {
            _epoch++;
            Volatile.Write(ref _writing, 0);
        }
    }

    /// <summary>Hash of kept records up to <paramref name="revision"/> (≤ 0: current); see <see cref="MvccHasher"/>.</summary>
    public MvccHashKv HashKv(long revision) => MvccHasher.HashKv(_published, revision);

    /// <summary>Hash of the whole state.</summary>
    public uint Hash() => MvccHasher.Hash(_published);

    /// <summary>Writes the full state as an image (see <see cref="MvccImage"/>).</summary>
    public void WriteImage(Stream output) => MvccImage.Write(_published, output);

    /// <summary>Creates a store from an image written by <see cref="WriteImage"/>.</summary>
    public static MvccStore ReadImage(Stream input, IMvccCommitObserver? observer = null) =>
        new(MvccImage.Read(input, epoch: 0), observer);

    /// <summary>Replaces the whole state with the image in <paramref name="input"/> (raft snapshot install).</summary>
    public void Restore(Stream input)
    {
        EnterWriter();
        try
        {
            _published = MvccImage.Read(input, _epoch);
        }
        finally
        {
            _epoch++;
            Volatile.Write(ref _writing, 0);
        }
    }

    /// <summary>Called by <see cref="MvccWriteTxn"/> when it ends (null: nothing to publish).</summary>
    internal void FinishWrite(MvccReadView? next, MvccCommit? commit = null)
    {
        if (next is not null)
        {
            _published = next;
        }

        // Nodes of this epoch may now be visible to readers: the next writer must copy them.
        _epoch++;
        Volatile.Write(ref _writing, 0);
        if (commit is not null)
        {
            _observer?.OnCommit(commit);
        }
    }

    private void EnterWriter()
    {
        if (Interlocked.CompareExchange(ref _writing, 1, 0) != 0)
        {
            throw new InvalidOperationException("Another write transaction or compaction is in progress.");
        }
    }
}
