namespace Coordination.Server.Hosting.Http2;

/// <summary>
/// Re-encodes decoded header fields as HPACK "literal header field without indexing — new name"
/// (or "never indexed — new name" for fields the client marked so), never Huffman-coded and never
/// touching the dynamic table, so the receiving decoder's dynamic table stays empty. On the way,
/// an <c>:authority</c> or <c>host</c> value written as a URL (<c>scheme://host[:port][/...]</c>, as
/// grpc-go sends for a <c>passthrough:///http://host:port</c> target) is cut down to <c>host[:port]</c>.
/// </summary>
internal sealed class HeaderBlockReencoder(PooledByteBuffer output) : IHpackHeaderSink
{
    /// <summary>Number of authority values rewritten so far.</summary>
    public int RewrittenAuthorities { get; private set; }

    /// <inheritdoc />
    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed)
    {
        if ((name.SequenceEqual(":authority"u8) || name.SequenceEqual("host"u8)) && TryStripScheme(value, out var authority))
        {
            value = authority;
            RewrittenAuthorities++;
        }
        output.WriteByte(neverIndexed ? (byte)0x10 : (byte)0x00);
        WriteString(name);
        WriteString(value);
    }

    /// <summary>
    /// When <paramref name="value"/> looks like <c>scheme://authority[/path][?query][#fragment]</c>, returns
    /// the authority without any <c>userinfo@</c> part (<c>localhost</c> when it is empty, as for
    /// <c>unix:///path</c>). Returns false, leaving the value alone, for anything else.
    /// </summary>
    public static bool TryStripScheme(ReadOnlySpan<byte> value, out ReadOnlySpan<byte> authority)
    {
        authority = default;
        int colon = value.IndexOf("://"u8);
        if (colon <= 0 || !IsScheme(value[..colon])) return false;
        var rest = value[(colon + 3)..];
        int end = rest.IndexOfAny("/?#"u8);
        if (end >= 0) rest = rest[..end];
        int at = rest.LastIndexOf((byte)'@');
        if (at >= 0) rest = rest[(at + 1)..];
        authority = rest.IsEmpty ? "localhost"u8 : rest;
        return true;
    }

    /// <summary>RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).</summary>
    private static bool IsScheme(ReadOnlySpan<byte> scheme)
    {
        if (!char.IsAsciiLetter((char)scheme[0])) return false;
        foreach (byte b in scheme[1..])
        {
            if (!char.IsAsciiLetterOrDigit((char)b) && b is not (byte)'+' and not (byte)'-' and not (byte)'.') return false;
        }
        return true;
    }

    private void WriteString(ReadOnlySpan<byte> s)
    {
        WriteInteger(s.Length, 7, 0x00); // H = 0: raw octets
        output.Write(s);
    }

    /// <summary>Writes a prefixed integer (RFC 7541 5.1) with <paramref name="flags"/> in the bits above the prefix.</summary>
    private void WriteInteger(int value, int prefixBits, byte flags)
    {
        int max = (1 << prefixBits) - 1;
        if (value < max)
        {
            output.WriteByte((byte)(flags | value));
            return;
        }
        output.WriteByte((byte)(flags | max));
        value -= max;
        while (value >= 0x80)
        {
            output.WriteByte((byte)(0x80 | (value & 0x7F)));
            value >>= 7;
        }
        output.WriteByte((byte)value);
    }
}
