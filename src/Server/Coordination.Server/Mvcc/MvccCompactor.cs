namespace Coordination.Server.Mvcc;

/// <summary>Builds the compacted successor of a published state.</summary>
internal static class MvccCompactor
{
    /// <summary>
    /// The state after compacting <paramref name="view"/> at <paramref name="revision"/>; only keys
    /// whose history changes are rewritten, the rest of the tree is shared.
    /// </summary>
    public static MvccReadView Compact(MvccReadView view, long revision, long epoch)
    {
        BTreeNode root = view.Root;
        long size = view.ApproximateSizeBytes;
        var changed = new List<(KeyHistory Before, KeyHistory? After, int Dropped)>();
        view.ForEachHistory(history =>
        {
            KeyHistory? after = history.CompactAt(revision, out int dropped);
            if (dropped > 0)
            {
                changed.Add((history, after, dropped));
            }

            return true;
        });

        foreach ((KeyHistory before, KeyHistory? after, int dropped) in changed)
        {
            for (int i = 0; i < dropped; i++)
            {
                size -= MvccSize.Of(before.Key, before.Records[i]);
            }

            root = after is null
                ? PersistentBTree.Remove(root, before.Key, epoch)
                : PersistentBTree.Set(root, after, epoch);
        }

        return new MvccReadView(root, view.Revision, revision, size);
    }
}
