namespace Coordination.Server.Hosting.Http2;

/// <summary>
/// Decoder for the static Huffman code of HPACK (RFC 7541 section 5.2 and Appendix B).
/// </summary>
/// <remarks>
/// The Appendix B code is canonical: sorting the 257 symbols by (code length, symbol) and counting
/// upwards (shifting left whenever the length grows) reproduces every code in the RFC's table. So the
/// table is kept as the code lengths only and the codes are derived at start-up; the unit tests check
/// derived codes against values printed in the RFC and the Appendix C examples.
/// Decoding peeks 32 bits at a time: with the codes left-justified, the length of the next code is the
/// smallest L whose "first code longer than L" bound exceeds the peeked value.
/// </remarks>
internal static class HpackHuffman
{
    /// <summary>The end-of-string symbol, which must never appear in a decoded string.</summary>
    public const int Eos = 256;

    private const int MinLength = 5;
    private const int MaxLength = 30;

    /// <summary>Code length in bits of each symbol 0..256 (RFC 7541 Appendix B).</summary>
    private static ReadOnlySpan<byte> Lengths =>
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0-15
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16-31
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,         // 32-47  ' ' .. '/'
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,              // 48-63  '0' .. '?'
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,                // 64-79  '@' .. 'O'
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,             // 80-95  'P' .. '_'
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,                // 96-111 '`' .. 'o'
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,            // 112-127 'p' .. DEL
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128-143
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144-159
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160-175
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176-191
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192-207
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208-223
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224-239
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240-255
        30,                                                             // 256 EOS
    ];

    /// <summary>Code of each symbol, right-aligned (as the RFC's hex column prints it).</summary>
    private static readonly uint[] Codes = new uint[257];

    /// <summary>Symbols sorted by (length, symbol): the canonical order.</summary>
    private static readonly ushort[] Sorted = new ushort[257];

    /// <summary>For each length L: the first code of length L (right-aligned).</summary>
    private static readonly uint[] FirstCode = new uint[MaxLength + 1];

    /// <summary>For each length L: index in <see cref="Sorted"/> of the first symbol of length L.</summary>
    private static readonly int[] FirstIndex = new int[MaxLength + 1];

    /// <summary>For each length L: left-justified (in 32 bits) bound that every code of length ≤ L is below.</summary>
    private static readonly ulong[] Limit = new ulong[MaxLength + 1];

    static HpackHuffman()
    {
        var lengths = Lengths;
        int n = 0;
        for (int len = MinLength; len <= MaxLength; len++)
        {
            for (int sym = 0; sym < lengths.Length; sym++)
            {
                if (lengths[sym] == len) Sorted[n++] = (ushort)sym;
            }
        }
        if (n != 257) throw new InvalidOperationException("HPACK Huffman table is malformed.");

        uint code = 0;
        int prevLen = MinLength;
        int index = 0;
        for (int len = MinLength; len <= MaxLength; len++)
        {
            code <<= len - prevLen;
            prevLen = len;
            FirstCode[len] = code;
            FirstIndex[len] = index;
            while (index < Sorted.Length && lengths[Sorted[index]] == len)
            {
                Codes[Sorted[index]] = code++;
                index++;
            }
            Limit[len] = (ulong)code << (32 - len);
        }
        // A complete prefix code fills the whole 30-bit space: the last code is all ones (EOS).
        if (code != 1u << MaxLength) throw new InvalidOperationException("HPACK Huffman table is not complete.");
    }

    /// <summary>The code of <paramref name="symbol"/>, right-aligned, and its length in bits.</summary>
    public static (uint Code, int Length) GetCode(int symbol) => (Codes[symbol], Lengths[symbol]);

    /// <summary>An upper bound of the decoded length of <paramref name="encodedLength"/> Huffman-coded bytes.</summary>
    public static int MaxDecodedLength(int encodedLength) => (encodedLength * 8 / MinLength) + 1;

    /// <summary>
    /// Decodes <paramref name="source"/> into <paramref name="destination"/> (at least
    /// <see cref="MaxDecodedLength"/> bytes long) and returns the number of bytes written, or -1 when the
    /// input is not a valid HPACK Huffman string (EOS symbol, padding longer than 7 bits or not all ones).
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ulong acc = 0; // unread bits, left-aligned
        int bits = 0;
        int pos = 0;
        int written = 0;
        var limit = Limit;
        while (true)
        {
            while (bits <= 56 && pos < source.Length)
            {
                acc |= (ulong)source[pos++] << (56 - bits);
                bits += 8;
            }
            if (bits == 0) return written;

            ulong peek = acc >> 32;
            int len = MinLength;
            while (peek >= limit[len]) len++; // terminates: limit[30] is 2^32
            if (len > bits)
            {
                // Not enough bits left for a whole code: the rest must be EOS-prefix padding.
                if (pos < source.Length || bits > 7) return -1;
                ulong mask = ~0UL << (64 - bits);
                return (acc & mask) == mask ? written : -1;
            }
            int symbol = Sorted[FirstIndex[len] + (int)((uint)(peek >> (32 - len)) - FirstCode[len])];
            if (symbol == Eos) return -1;
            destination[written++] = (byte)symbol;
            acc <<= len;
            bits -= len;
        }
    }
}
