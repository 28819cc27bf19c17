namespace Coordination.Server.Mvcc;

/// <summary>
/// An immutable published state of the store: tree root, current and compact revisions, size.
/// Any number of threads may read it while the writer builds the next state.
/// </summary>
internal sealed class MvccReadView : IMvccReadView
{
    /// <summary>Creates a view over <paramref name="root"/>.</summary>
    public MvccReadView(BTreeNode root, long revision, long compactRevision, long approximateSizeBytes)
    {
        Root = root;
        Revision = revision;
        CompactRevision = compactRevision;
        ApproximateSizeBytes = approximateSizeBytes;
    }

    /// <summary>The state of a fresh store: no keys, revision 1.</summary>
    public static MvccReadView Empty { get; } = new(BTreeNode.NewLeaf(0), 1, 0, 0);

    /// <summary>The root of the key index.</summary>
    public BTreeNode Root { get; }

    /// <inheritdoc />
    public long Revision { get; }

    /// <inheritdoc />
    public long CompactRevision { get; }

    /// <summary>Approximate bytes of the kept history (keys, values and per-record overhead).</summary>
    public long ApproximateSizeBytes { get; }

    /// <inheritdoc />
    public MvccRangeResult Range(KeyRange range, MvccRangeOptions options = default)
    {
        long revision = MvccReads.ResolveRevision(options.Revision, Revision, CompactRevision);
        return MvccReads.Range(Root, range, revision, Revision, options.Limit, options.CountOnly);
    }

    /// <summary>
    /// The changes on <paramref name="range"/> with revisions in [<paramref name="from"/>,
    /// <paramref name="to"/>] (to is capped at <see cref="Revision"/>), whole revisions only, at
    /// most about <paramref name="maxEvents"/> events and <paramref name="maxBytes"/> bytes; see <see cref="MvccHistory.Read"/>.
    /// </summary>
    /// <exception cref="Errors.EtcdException">Compacted when <paramref name="from"/> is below <see cref="CompactRevision"/>.</exception>
    public MvccHistoryBatch History(KeyRange range, long from, long to, int maxEvents, long maxBytes = long.MaxValue) =>
        MvccHistory.Read(this, range, from, to, maxEvents, maxBytes);

    /// <summary>Visits every kept key history in key order (hashing, images, lease recovery).</summary>
    public void ForEachHistory(Func<KeyHistory, bool> visit)
    {
        PersistentBTree.Scan(Root, KeyRange.All, visit);
    }

    /// <summary>Every live key that carries a lease, with the lease id (to rebuild the lessor after a restore).</summary>
    public IReadOnlyList<LeaseChange> LeasedKeys()
    {
        var result = new List<LeaseChange>();
        ForEachHistory(history =>
        {
            ref readonly KeyRecord latest = ref history.Latest;
            if (!latest.IsTombstone && latest.Lease != 0)
            {
                result.Add(new LeaseChange(latest.Lease, history.Key, Attached: true));
            }

            return true;
        });
        return result;
    }
}
