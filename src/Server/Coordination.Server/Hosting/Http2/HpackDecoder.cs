using System.Buffers;

namespace Coordination.Server.Hosting.Http2;

/// <summary>Receives the header fields of a decoded header block, in order.</summary>
internal interface IHpackHeaderSink
{
    /// <summary>
    /// One header field. The spans are only valid during the call. <paramref name="neverIndexed"/> is set
    /// for fields the sender marked "never indexed" (RFC 7541 section 6.2.3).
    /// </summary>
    void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed);
}

/// <summary>A header block that is not valid HPACK (a COMPRESSION_ERROR in HTTP/2 terms).</summary>
internal sealed class HpackDecodingException(string message) : Exception(message);

/// <summary>
/// A complete HPACK decoder (RFC 7541): static and dynamic tables, dynamic table size updates, prefixed
/// integers and string literals with or without Huffman coding. One instance holds the decoding state
/// of one direction of one HTTP/2 connection, so every header block of that direction must pass
/// through it, in order.
/// </summary>
internal sealed class HpackDecoder
{
    /// <summary>The initial SETTINGS_HEADER_TABLE_SIZE of HTTP/2 (and Kestrel's default).</summary>
    public const int DefaultHeaderTableSize = 4096;

    private readonly int _maxTableSizeLimit;
    private readonly HpackDynamicTable _table;

    /// <summary>
    /// Creates a decoder whose peer may size the dynamic table up to <paramref name="maxTableSizeLimit"/>
    /// bytes (the SETTINGS_HEADER_TABLE_SIZE the decoding side advertised).
    /// </summary>
    public HpackDecoder(int maxTableSizeLimit = DefaultHeaderTableSize)
    {
        _maxTableSizeLimit = maxTableSizeLimit;
        _table = new HpackDynamicTable(maxTableSizeLimit);
    }

    /// <summary>Number of entries in the dynamic table.</summary>
    public int DynamicTableCount => _table.Count;

    /// <summary>Size of the dynamic table in the RFC's accounting (name + value + 32 per entry).</summary>
    public int DynamicTableSize => _table.Size;

    /// <summary>
    /// Decodes one complete header block, reporting each field to <paramref name="sink"/> and updating
    /// the dynamic table. Throws <see cref="HpackDecodingException"/> when the block is malformed; the
    /// decoder's state is then unspecified and the connection cannot continue.
    /// </summary>
    public void Decode<TSink>(ReadOnlySpan<byte> block, TSink sink) where TSink : IHpackHeaderSink
    {
        byte[] scratch = ArrayPool<byte>.Shared.Rent(HpackHuffman.MaxDecodedLength(block.Length) + 16);
        try
        {
            DecodeCore(block, sink, scratch);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private void DecodeCore<TSink>(ReadOnlySpan<byte> block, TSink sink, byte[] scratch) where TSink : IHpackHeaderSink
    {
        int pos = 0;
        bool sawField = false;
        while (pos < block.Length)
        {
            byte b = block[pos];
            if ((b & 0x80) != 0)
            {
                // 6.1 Indexed header field.
                int index = ReadInteger(block, ref pos, 7);
                if (index == 0) throw new HpackDecodingException("Indexed header field with index 0.");
                GetEntry(index, out var name, out var value);
                sink.OnHeader(name, value, neverIndexed: false);
                sawField = true;
            }
            else if ((b & 0x40) != 0)
            {
                // 6.2.1 Literal header field with incremental indexing.
                int index = ReadInteger(block, ref pos, 6);
                ReadLiteral(block, ref pos, index, scratch, out var name, out var value);
                sink.OnHeader(name, value, neverIndexed: false);
                _table.Insert(name, value);
                sawField = true;
            }
            else if ((b & 0x20) != 0)
            {
                // 6.3 Dynamic table size update: only before the first field of a block (4.2).
                if (sawField) throw new HpackDecodingException("Dynamic table size update after a header field.");
                int size = ReadInteger(block, ref pos, 5);
                if (size > _maxTableSizeLimit)
                {
                    throw new HpackDecodingException($"Dynamic table size update to {size} exceeds the limit {_maxTableSizeLimit}.");
                }
                _table.SetMaxSize(size);
            }
            else
            {
                // 6.2.2 Literal without indexing (0000), 6.2.3 never indexed (0001).
                bool neverIndexed = (b & 0x10) != 0;
                int index = ReadInteger(block, ref pos, 4);
                ReadLiteral(block, ref pos, index, scratch, out var name, out var value);
                sink.OnHeader(name, value, neverIndexed);
                sawField = true;
            }
        }
    }

    private void ReadLiteral(ReadOnlySpan<byte> block, ref int pos, int nameIndex, byte[] scratch,
        out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        int used = 0;
        if (nameIndex == 0)
        {
            name = ReadString(block, ref pos, scratch, ref used);
        }
        else
        {
            GetEntry(nameIndex, out name, out _);
        }
        value = ReadString(block, ref pos, scratch, ref used);
    }

    private void GetEntry(int index, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        if (index <= HpackStaticTable.Count)
        {
            name = HpackStaticTable.Name(index);
            value = HpackStaticTable.Value(index);
            return;
        }
        int dynamicIndex = index - HpackStaticTable.Count;
        if (dynamicIndex > _table.Count) throw new HpackDecodingException($"Header table index {index} is out of range.");
        _table.Get(dynamicIndex, out name, out value);
    }

    /// <summary>Reads a string literal (5.2); Huffman-coded strings are decoded into <paramref name="scratch"/>.</summary>
    private static ReadOnlySpan<byte> ReadString(ReadOnlySpan<byte> block, scoped ref int pos, byte[] scratch, scoped ref int used)
    {
        if (pos >= block.Length) throw new HpackDecodingException("Truncated string literal.");
        bool huffman = (block[pos] & 0x80) != 0;
        int length = ReadInteger(block, ref pos, 7);
        if (length > block.Length - pos) throw new HpackDecodingException("String literal runs past the end of the header block.");
        var raw = block.Slice(pos, length);
        pos += length;
        if (!huffman) return raw;
        var destination = scratch.AsSpan(used);
        int written = HpackHuffman.Decode(raw, destination);
        if (written < 0) throw new HpackDecodingException("Invalid Huffman-coded string literal.");
        var result = destination[..written];
        used += written;
        return result;
    }

    /// <summary>Reads a prefixed integer (5.1) whose prefix is the low <paramref name="prefixBits"/> bits of block[pos].</summary>
    internal static int ReadInteger(ReadOnlySpan<byte> block, ref int pos, int prefixBits)
    {
        if (pos >= block.Length) throw new HpackDecodingException("Truncated integer.");
        int max = (1 << prefixBits) - 1;
        int value = block[pos++] & max;
        if (value < max) return value;
        int shift = 0;
        while (true)
        {
            if (pos >= block.Length) throw new HpackDecodingException("Truncated integer.");
            byte b = block[pos++];
            long next = value + ((long)(b & 0x7F) << shift);
            if (next > int.MaxValue) throw new HpackDecodingException("Integer overflow.");
            value = (int)next;
            if ((b & 0x80) == 0) return value;
            shift += 7;
            if (shift > 28) throw new HpackDecodingException("Integer overflow.");
        }
    }
}

/// <summary>The HPACK dynamic table (RFC 7541 section 4): newest entry first, FIFO eviction by size.</summary>
internal sealed class HpackDynamicTable
{
    private const int EntryOverhead = 32;

    // Circular buffer of entries; each entry stores name and value back to back in one array.
    private (byte[] Data, int NameLength)[] _entries;
    private int _head; // slot of the oldest entry
    private int _count;
    private int _size;
    private int _maxSize;

    /// <summary>Creates an empty table with the given maximum size.</summary>
    public HpackDynamicTable(int maxSize)
    {
        _maxSize = maxSize;
        _entries = new (byte[], int)[Math.Max(4, maxSize / EntryOverhead + 1)];
    }

    /// <summary>Number of entries.</summary>
    public int Count => _count;

    /// <summary>Current size (sum of name + value + 32 over the entries).</summary>
    public int Size => _size;

    /// <summary>Entry <paramref name="index"/>, 1 being the newest.</summary>
    public void Get(int index, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        var (data, nameLength) = _entries[(_head + _count - index) % _entries.Length];
        name = data.AsSpan(0, nameLength);
        value = data.AsSpan(nameLength);
    }

    /// <summary>Applies a dynamic table size update, evicting entries that no longer fit.</summary>
    public void SetMaxSize(int maxSize)
    {
        _maxSize = maxSize;
        EvictUntil(maxSize);
    }

    /// <summary>Adds an entry (4.4): evicts older entries to make room; an entry larger than the table empties it.</summary>
    public void Insert(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        int entrySize = name.Length + value.Length + EntryOverhead;
        // Copy first: name may point into an entry that is about to be evicted (that array stays alive
        // through the span, but copying first keeps the order obvious).
        byte[]? data = entrySize <= _maxSize ? new byte[name.Length + value.Length] : null;
        if (data is not null)
        {
            name.CopyTo(data);
            value.CopyTo(data.AsSpan(name.Length));
        }
        EvictUntil(_maxSize - entrySize);
        if (data is null) return;
        if (_count == _entries.Length) Grow();
        _entries[(_head + _count) % _entries.Length] = (data, name.Length);
        _count++;
        _size += entrySize;
    }

    private void EvictUntil(int targetSize)
    {
        while (_count > 0 && _size > Math.Max(0, targetSize))
        {
            ref var oldest = ref _entries[_head];
            _size -= oldest.Data.Length + EntryOverhead;
            oldest = default;
            _head = (_head + 1) % _entries.Length;
            _count--;
        }
    }

    private void Grow()
    {
        var bigger = new (byte[], int)[_entries.Length * 2];
        for (int i = 0; i < _count; i++) bigger[i] = _entries[(_head + i) % _entries.Length];
        _entries = bigger;
        _head = 0;
    }
}
