using Google.Protobuf;

namespace Coordination.Server.Mvcc;

/// <summary>
/// A node of <see cref="PersistentBTree"/>. A leaf holds key histories sorted by key; an internal
/// node holds children and, for every child but the first, a separator that is ≤ every key in that
/// child and &gt; every key in the child before it.
/// </summary>
/// <remarks>
/// Nodes are immutable once published. The writer may change a node in place only while the node's
/// <see cref="Epoch"/> equals the epoch of the write transaction that created it, i.e. before any
/// reader can have seen it (a transient, path-copying B+tree).
/// </remarks>
internal sealed class BTreeNode
{
    /// <summary>Maximum entries (leaf) or children (internal) per node.</summary>
    public const int MaxEntries = 32;

    private BTreeNode(long epoch, KeyHistory[]? items, ByteString[]? separators, BTreeNode[]? children, int count)
    {
        Epoch = epoch;
        Items = items;
        Separators = separators;
        Children = children;
        Count = count;
    }

    /// <summary>The write epoch that created this node.</summary>
    public long Epoch { get; }

    /// <summary>
    /// Entries of a leaf (first <see cref="Count"/> used; at most <see cref="MaxEntries"/> long, and
    /// grown by <see cref="EnsureItemCapacity"/> before an insert); null for an internal node.
    /// </summary>
    public KeyHistory[]? Items { get; private set; }

    /// <summary>Separators of an internal node (index 0 unused); null for a leaf.</summary>
    public ByteString[]? Separators { get; }

    /// <summary>Children of an internal node; null for a leaf.</summary>
    public BTreeNode[]? Children { get; }

    /// <summary>Number of used entries or children.</summary>
    public int Count { get; set; }

    /// <summary>True for a leaf.</summary>
    public bool IsLeaf => Items is not null;

    /// <summary>A new empty leaf.</summary>
    public static BTreeNode NewLeaf(long epoch) => new(epoch, new KeyHistory[MaxEntries], null, null, 0);

    /// <summary>A new empty internal node.</summary>
    public static BTreeNode NewInternal(long epoch) => new(epoch, null, new ByteString[MaxEntries], new BTreeNode[MaxEntries], 0);

    /// <summary>This node if <paramref name="epoch"/> owns it, otherwise a copy owned by <paramref name="epoch"/>.</summary>
    public BTreeNode Writable(long epoch)
    {
        if (Epoch == epoch)
        {
            return this;
        }

        if (!IsLeaf)
        {
            return new BTreeNode(epoch, null, (ByteString[])Separators!.Clone(), (BTreeNode[])Children!.Clone(), Count);
        }

        // Every write copies the leaf on its path: copy what is used plus room for one insert, not
        // all MaxEntries slots (a put that overwrites one of few keys copied 280 bytes for 8 used).
        var items = new KeyHistory[Math.Min(MaxEntries, Count + 1)];
        Array.Copy(Items!, items, Count);
        return new BTreeNode(epoch, items, null, null, Count);
    }

    /// <summary>
    /// Makes a leaf that <paramref name="epoch"/> owns hold at least <paramref name="capacity"/>
    /// entries (at most <see cref="MaxEntries"/>).
    /// </summary>
    public void EnsureItemCapacity(int capacity, long epoch)
    {
        if (Epoch != epoch)
        {
            throw new InvalidOperationException("Only the write epoch that owns a node may grow it.");
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxEntries);
        KeyHistory[] items = Items!;
        if (items.Length < capacity)
        {
            var grown = new KeyHistory[Math.Min(MaxEntries, Math.Max(capacity, items.Length * 2))];
            Array.Copy(items, grown, Count);
            Items = grown;
        }
    }

    /// <summary>The smallest key below this node (the first key in its leftmost leaf).</summary>
    public ByteString MinKey()
    {
        BTreeNode node = this;
        while (!node.IsLeaf)
        {
            node = node.Children![0];
        }

        return node.Items![0].Key;
    }

    /// <summary>In a leaf: index of <paramref name="key"/>, or the bitwise complement of its insertion point.</summary>
    public int SearchLeaf(ByteString key)
    {
        KeyHistory[] items = Items!;
        int lo = 0;
        int hi = Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int cmp = KeyComparer.Compare(items[mid].Key, key);
            if (cmp == 0)
            {
                return mid;
            }

            if (cmp < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return ~lo;
    }

    /// <summary>In an internal node: index of the child whose key interval contains <paramref name="key"/>.</summary>
    public int ChildIndex(ByteString key)
    {
        ByteString[] separators = Separators!;
        int lo = 1;
        int hi = Count - 1;
        int result = 0;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (KeyComparer.Compare(separators[mid], key) <= 0)
            {
                result = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return result;
    }
}
