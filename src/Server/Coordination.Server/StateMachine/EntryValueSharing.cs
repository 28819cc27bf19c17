using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Server.StateMachine;

/// <summary>
/// Lets a put's value share the bytes of the log entry it was applied from, instead of keeping the
/// copy the protobuf parser made. The store keeps every value until compaction and the log keeps
/// every entry until a snapshot, so without sharing each put's value lives on the heap twice, and
/// every long-lived byte is copied again by each collection that promotes it. With this and the
/// batched appends, what a member's gen1 collections promote in a 64-client run fell from 89-101 to
/// 47-59 MiB and their pauses from 92-109 to 54-69 ms (ours alone, docs/benchmarks.md).
/// </summary>
/// <remarks>
/// Entry data is never written after it is made (the proposer serializes a fresh array, the peer
/// stream and the log reader parse into fresh arrays), so a slice of it is as immutable as a copy.
/// A value shares only when it is at least half the entry, so a small value never keeps a large
/// entry alive, and only when the located bytes equal the parsed value, so an entry laid out in
/// some unexpected way (a repeated field, merged messages) still applies its parsed value.
/// </remarks>
internal static class EntryValueSharing
{
    private const int WireVarint = 0;
    private const int WireFixed64 = 1;
    private const int WireLengthDelimited = 2;
    private const int WireFixed32 = 5;

    // Field numbers: InternalRequest.put and PutRequest.value.
    private const int InternalRequestPutField = 2;
    private const int PutRequestValueField = 2;

    /// <summary>
    /// Replaces <paramref name="put"/>'s value with a slice of <paramref name="entryData"/> (the
    /// serialized InternalRequest it was parsed from) when the rules above allow; returns whether it did.
    /// </summary>
    public static bool Share(ByteString entryData, PutRequest put)
    {
        ByteString value = put.Value;
        if (value.Length == 0 || value.Length * 2L < entryData.Length)
        {
            return false;
        }

        ReadOnlySpan<byte> data = entryData.Span;
        if (!TryFindLast(data, 0, data.Length, InternalRequestPutField, out int putStart, out int putLength)
            || !TryFindLast(data, putStart, putStart + putLength, PutRequestValueField, out int valueStart, out int valueLength)
            || valueLength != value.Length
            || !data.Slice(valueStart, valueLength).SequenceEqual(value.Span))
        {
            return false;
        }

        put.Value = UnsafeByteOperations.UnsafeWrap(entryData.Memory.Slice(valueStart, valueLength));
        return true;
    }

    /// <summary>
    /// The last length-delimited field numbered <paramref name="field"/> among the fields in
    /// <paramref name="data"/>[<paramref name="start"/>..<paramref name="end"/>); false when there is
    /// none or the bytes are not well-formed protobuf.
    /// </summary>
    private static bool TryFindLast(ReadOnlySpan<byte> data, int start, int end, int field, out int foundStart, out int foundLength)
    {
        foundStart = foundLength = -1;
        int position = start;
        while (position < end)
        {
            if (!TryReadVarint(data, ref position, end, out ulong tag))
            {
                return false;
            }

            int wireType = (int)(tag & 7);
            ulong number = tag >> 3;
            switch (wireType)
            {
                case WireVarint:
                    if (!TryReadVarint(data, ref position, end, out _))
                    {
                        return false;
                    }

                    break;
                case WireFixed64:
                    position += 8;
                    break;
                case WireFixed32:
                    position += 4;
                    break;
                case WireLengthDelimited:
                    if (!TryReadVarint(data, ref position, end, out ulong length) || length > (ulong)(end - position))
                    {
                        return false;
                    }

                    if (number == (ulong)field)
                    {
                        foundStart = position;
                        foundLength = (int)length;
                    }

                    position += (int)length;
                    break;
                default:
                    return false; // groups are not used by these messages
            }
        }

        return position == end && foundStart >= 0;
    }

    private static bool TryReadVarint(ReadOnlySpan<byte> data, ref int position, int end, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && position < end; shift += 7)
        {
            byte b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
