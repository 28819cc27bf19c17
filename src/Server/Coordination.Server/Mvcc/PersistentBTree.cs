using Google.Protobuf;

namespace Coordination.Server.Mvcc;

/// <summary>
/// Operations of the persistent B+tree that maps keys to <see cref="KeyHistory"/>. Every update
/// takes a root and returns a new root; nodes reachable from an older root are never changed, so a
/// published root is an immutable snapshot that readers traverse without locks.
/// </summary>
/// <remarks>
/// Updates copy the path from the root to the changed leaf, except for nodes the current write
/// <c>epoch</c> already owns (see <see cref="BTreeNode"/>), so many changes inside one write
/// transaction copy each node at most once. Deletions drop empty nodes and merge a node with a
/// neighbour when both fit in one node; they never rotate entries.
/// </remarks>
internal static class PersistentBTree
{
    /// <summary>The history stored for <paramref name="key"/>, or null.</summary>
    public static KeyHistory? Find(BTreeNode root, ByteString key)
    {
        BTreeNode node = root;
        while (!node.IsLeaf)
        {
            node = node.Children![node.ChildIndex(key)];
        }

        int index = node.SearchLeaf(key);
        return index >= 0 ? node.Items![index] : null;
    }

    /// <summary>Inserts or replaces the history of <c>history.Key</c>; returns the new root.</summary>
    public static BTreeNode Set(BTreeNode root, KeyHistory history, long epoch)
    {
        BTreeNode updated = SetIn(root, history, epoch, out BTreeNode? right);
        if (right is null)
        {
            return updated;
        }

        BTreeNode newRoot = BTreeNode.NewInternal(epoch);
        newRoot.Children![0] = updated;
        newRoot.Children[1] = right;
        newRoot.Separators![1] = right.MinKey();
        newRoot.Count = 2;
        return newRoot;
    }

    /// <summary>Removes <paramref name="key"/> if present; returns the new root.</summary>
    public static BTreeNode Remove(BTreeNode root, ByteString key, long epoch)
    {
        BTreeNode? updated = RemoveFrom(root, key, epoch, out bool changed);
        if (!changed)
        {
            return root;
        }

        if (updated is null)
        {
            return BTreeNode.NewLeaf(epoch);
        }

        while (!updated.IsLeaf && updated.Count == 1)
        {
            updated = updated.Children![0];
        }

        return updated;
    }

    /// <summary>
    /// Visits, in ascending key order, every history whose key lies in <paramref name="range"/>,
    /// until <paramref name="visit"/> returns false.
    /// </summary>
    public static void Scan(BTreeNode root, in KeyRange range, Func<KeyHistory, bool> visit)
    {
        ScanFrom(root, range, visit);
    }

    /// <summary>Builds a tree from histories already sorted by key, with distinct keys.</summary>
    public static BTreeNode Build(IReadOnlyList<KeyHistory> sorted, long epoch)
    {
        if (sorted.Count == 0)
        {
            return BTreeNode.NewLeaf(epoch);
        }

        // Leaves are filled to 3/4 so that the first inserts after a restore rarely split.
        const int fill = BTreeNode.MaxEntries * 3 / 4;
        var level = new List<BTreeNode>((sorted.Count / fill) + 1);
        for (int i = 0; i < sorted.Count; i += fill)
        {
            BTreeNode leaf = BTreeNode.NewLeaf(epoch);
            int n = Math.Min(fill, sorted.Count - i);
            for (int j = 0; j < n; j++)
            {
                leaf.Items![j] = sorted[i + j];
            }

            leaf.Count = n;
            level.Add(leaf);
        }

        while (level.Count > 1)
        {
            var parents = new List<BTreeNode>((level.Count / fill) + 1);
            for (int i = 0; i < level.Count; i += fill)
            {
                BTreeNode parent = BTreeNode.NewInternal(epoch);
                int n = Math.Min(fill, level.Count - i);
                for (int j = 0; j < n; j++)
                {
                    parent.Children![j] = level[i + j];
                    if (j > 0)
                    {
                        parent.Separators![j] = level[i + j].MinKey();
                    }
                }

                parent.Count = n;
                parents.Add(parent);
            }

            level = parents;
        }

        return level[0];
    }

    private static BTreeNode SetIn(BTreeNode node, KeyHistory history, long epoch, out BTreeNode? right)
    {
        right = null;
        if (node.IsLeaf)
        {
            int index = node.SearchLeaf(history.Key);
            if (index >= 0)
            {
                BTreeNode leaf = node.Writable(epoch);
                leaf.Items![index] = history;
                return leaf;
            }

            return InsertIntoLeaf(node, ~index, history, epoch, out right);
        }

        int childIndex = node.ChildIndex(history.Key);
        BTreeNode child = SetIn(node.Children![childIndex], history, epoch, out BTreeNode? childRight);
        BTreeNode writable = node.Writable(epoch);
        writable.Children![childIndex] = child;
        if (childRight is null)
        {
            return writable;
        }

        return InsertChild(writable, childIndex + 1, childRight, childRight.MinKey(), epoch, out right);
    }

    private static BTreeNode InsertIntoLeaf(BTreeNode node, int index, KeyHistory history, long epoch, out BTreeNode? right)
    {
        if (node.Count < BTreeNode.MaxEntries)
        {
            BTreeNode leaf = node.Writable(epoch);
            leaf.EnsureItemCapacity(leaf.Count + 1, epoch);
            KeyHistory[] items = leaf.Items!;
            Array.Copy(items, index, items, index + 1, leaf.Count - index);
            items[index] = history;
            leaf.Count++;
            right = null;
            return leaf;
        }

        // Split a full leaf into two halves, then insert into the proper half.
        int half = BTreeNode.MaxEntries / 2;
        BTreeNode leftLeaf = BTreeNode.NewLeaf(epoch);
        BTreeNode rightLeaf = BTreeNode.NewLeaf(epoch);
        Array.Copy(node.Items!, 0, leftLeaf.Items!, 0, half);
        Array.Copy(node.Items!, half, rightLeaf.Items!, 0, node.Count - half);
        leftLeaf.Count = half;
        rightLeaf.Count = node.Count - half;
        if (index <= half)
        {
            InsertIntoLeaf(leftLeaf, index, history, epoch, out _);
        }
        else
        {
            InsertIntoLeaf(rightLeaf, index - half, history, epoch, out _);
        }

        right = rightLeaf;
        return leftLeaf;
    }

    private static BTreeNode InsertChild(BTreeNode node, int index, BTreeNode child, ByteString separator, long epoch, out BTreeNode? right)
    {
        if (node.Count < BTreeNode.MaxEntries)
        {
            BTreeNode writable = node.Writable(epoch);
            Array.Copy(writable.Children!, index, writable.Children!, index + 1, writable.Count - index);
            Array.Copy(writable.Separators!, index, writable.Separators!, index + 1, writable.Count - index);
            writable.Children![index] = child;
            writable.Separators![index] = separator;
            writable.Count++;
            right = null;
            return writable;
        }

        int half = BTreeNode.MaxEntries / 2;
        BTreeNode leftNode = BTreeNode.NewInternal(epoch);
        BTreeNode rightNode = BTreeNode.NewInternal(epoch);
        Array.Copy(node.Children!, 0, leftNode.Children!, 0, half);
        Array.Copy(node.Separators!, 0, leftNode.Separators!, 0, half);
        Array.Copy(node.Children!, half, rightNode.Children!, 0, node.Count - half);
        Array.Copy(node.Separators!, half, rightNode.Separators!, 0, node.Count - half);
        leftNode.Count = half;
        rightNode.Count = node.Count - half;
        if (index <= half)
        {
            InsertChild(leftNode, index, child, separator, epoch, out _);
        }
        else
        {
            InsertChild(rightNode, index - half, child, separator, epoch, out _);
        }

        right = rightNode;
        return leftNode;
    }

    private static BTreeNode? RemoveFrom(BTreeNode node, ByteString key, long epoch, out bool changed)
    {
        if (node.IsLeaf)
        {
            int index = node.SearchLeaf(key);
            if (index < 0)
            {
                changed = false;
                return node;
            }

            changed = true;
            if (node.Count == 1)
            {
                return null;
            }

            BTreeNode leaf = node.Writable(epoch);
            Array.Copy(leaf.Items!, index + 1, leaf.Items!, index, leaf.Count - index - 1);
            leaf.Count--;
            leaf.Items![leaf.Count] = null!;
            return leaf;
        }

        int childIndex = node.ChildIndex(key);
        BTreeNode? child = RemoveFrom(node.Children![childIndex], key, epoch, out changed);
        if (!changed)
        {
            return node;
        }

        BTreeNode writable = node.Writable(epoch);
        if (child is null)
        {
            RemoveChildAt(writable, childIndex);
            return writable.Count == 0 ? null : writable;
        }

        writable.Children![childIndex] = child;
        MergeIfSmall(writable, childIndex, epoch);
        return writable;
    }

    /// <summary>Merges child <paramref name="index"/> with a neighbour when together they fit in one node.</summary>
    private static void MergeIfSmall(BTreeNode parent, int index, long epoch)
    {
        BTreeNode child = parent.Children![index];
        if (child.Count >= BTreeNode.MaxEntries / 4 || parent.Count < 2)
        {
            return;
        }

        int leftIndex = index > 0 ? index - 1 : index;
        BTreeNode left = parent.Children[leftIndex];
        BTreeNode right = parent.Children[leftIndex + 1];
        if (left.Count + right.Count > BTreeNode.MaxEntries)
        {
            return;
        }

        BTreeNode merged = left.Writable(epoch);
        if (merged.IsLeaf)
        {
            merged.EnsureItemCapacity(merged.Count + right.Count, epoch);
            Array.Copy(right.Items!, 0, merged.Items!, merged.Count, right.Count);
        }
        else
        {
            Array.Copy(right.Children!, 0, merged.Children!, merged.Count, right.Count);
            Array.Copy(right.Separators!, 0, merged.Separators!, merged.Count, right.Count);
            // The right node's first child had no separator of its own; the parent's separator bounds it.
            merged.Separators![merged.Count] = parent.Separators![leftIndex + 1];
        }

        merged.Count += right.Count;
        parent.Children[leftIndex] = merged;
        RemoveChildAt(parent, leftIndex + 1);
    }

    private static void RemoveChildAt(BTreeNode node, int index)
    {
        Array.Copy(node.Children!, index + 1, node.Children!, index, node.Count - index - 1);
        Array.Copy(node.Separators!, index + 1, node.Separators!, index, node.Count - index - 1);
        node.Count--;
        node.Children![node.Count] = null!;
        node.Separators![node.Count] = null!;
    }

    private static bool ScanFrom(BTreeNode node, in KeyRange range, Func<KeyHistory, bool> visit)
    {
        if (node.IsLeaf)
        {
            int start = node.SearchLeaf(range.Start);
            if (start < 0)
            {
                start = ~start;
            }

            KeyHistory[] items = node.Items!;
            for (int i = start; i < node.Count; i++)
            {
                if (range.IsPastEnd(items[i].Key) || !visit(items[i]))
                {
                    return false;
                }
            }

            return true;
        }

        int first = node.ChildIndex(range.Start);
        for (int i = first; i < node.Count; i++)
        {
            if (i > first && range.IsPastEnd(node.Separators![i]))
            {
                return false;
            }

            if (!ScanFrom(node.Children![i], range, visit))
            {
                return false;
            }
        }

        return true;
    }
}
