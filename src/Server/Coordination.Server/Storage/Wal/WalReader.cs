using System.Buffers.Binary;
using Coordination.Raft.Protocol;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Coordination.Server.Storage.Wal;

/// <summary>
/// Reads every segment of a log on open, verifies the checksum chain and rebuilds the raft state
/// (last hard state, newest snapshot marker, live entries). Decides what damage is a torn tail, which
/// is cut away, and what is corruption, which stops the server:
/// <list type="bullet">
/// <item>Damage in a segment that is not the last one is corruption: those segments were fsynced
/// before the next one was created.</item>
/// <item>In the last segment, damage followed only by zeros or by nothing decodable is a torn tail:
/// a batch that was being written when the process or machine died, never acknowledged.</item>
/// <item>In the last segment, damage followed by a valid record is corruption (bit rot in synced
/// data), unless an aligned 512-byte sector overlapping the damaged record is all zeros: that is a
/// sector the disk never wrote, so everything from there on belongs to the unsynced batch.</item>
/// </list>
/// </summary>
internal sealed class WalReader
{
    private const int SectorSize = 512;

    private readonly ILogger _logger;
    private readonly WalReplayStart? _start;
    private readonly List<Entry> _entries = [];
    private ulong? _floor;
    private ulong? _expectedFirst;
    private ulong _lastIndexWritten;

    public WalReader(ILogger logger, WalReplayStart? start)
    {
        _logger = logger;
        _start = start;
        if (start is { } s)
        {
            _floor = s.Index;
            _expectedFirst = s.Index + 1;
        }
    }

    /// <summary>The last hard state read.</summary>
    public HardState? HardState { get; private set; }

    /// <summary>The last snapshot marker read.</summary>
    public SnapshotMetadata? Snapshot { get; private set; }

    /// <summary>Live entries, contiguous, in index order.</summary>
    public List<Entry> Entries => _entries;

    /// <summary>The checksum chain value after the last valid record.</summary>
    public uint Crc { get; private set; }

    /// <summary>Length of the valid prefix of the last segment (its new length after repair).</summary>
    public long TailLength { get; private set; }

    /// <summary>Bytes cut from the end of the last segment.</summary>
    public long DiscardedBytes { get; private set; }

    /// <summary>The index the next entry is expected to follow.</summary>
    public ulong LastIndex =>
        _entries.Count > 0 ? _entries[^1].Index : Math.Max(_floor ?? 0, _lastIndexWritten);

    /// <summary>Reads <paramref name="segments"/> (consecutive, in order) and fills the segments'
    /// snapshot marker lists.</summary>
    /// <exception cref="WalCorruptedException">Damage that is not a torn tail.</exception>
    public void ReadAll(IReadOnlyList<WalSegment> segments)
    {
        byte[] buffer = [];
        uint previousEnd = 0;
        for (int i = 0; i < segments.Count; i++)
        {
            WalSegment segment = segments[i];
            int length;
            using (var handle = File.OpenHandle(segment.Path, FileMode.Open, FileAccess.Read, FileShare.Read))
            {
                long fileLength = RandomAccess.GetLength(handle);
                if (fileLength > Array.MaxLength)
                {
                    throw new WalCorruptedException(segment.Path, 0, $"segment of {fileLength} bytes is larger than any segment this server writes");
                }

                length = (int)fileLength;
                if (buffer.Length < length)
                {
                    buffer = new byte[length];
                }

                int read = 0;
                while (read < length)
                {
                    int n = RandomAccess.Read(handle, buffer.AsSpan(read, length - read), read);
                    if (n == 0)
                    {
                        break;
                    }

                    read += n;
                }

                length = read;
            }

            bool last = i == segments.Count - 1;
            int valid = ReadSegment(segment, buffer.AsSpan(0, length), i == 0, previousEnd, last);
            previousEnd = Crc;
            if (last)
            {
                TailLength = valid;
                // Zeros after the last record are the segment's preallocated space, not a loss.
                DiscardedBytes = buffer.AsSpan(valid, length - valid).ContainsAnyExcept((byte)0) ? length - valid : 0;
            }
        }

        if (_start is null && Snapshot is { } snapshot && _entries.Count > 0 && _entries[0].Index > snapshot.Index + 1)
        {
            throw new WalCorruptedException(segments[0].Path, 0, $"entries {snapshot.Index + 1} to {_entries[0].Index - 1} after the snapshot marker are missing");
        }
    }

    private int ReadSegment(WalSegment segment, ReadOnlySpan<byte> data, bool first, uint previousEnd, bool last)
    {
        int offset = 0;
        uint seed = 0;
        bool sawHeader = false;
        while (offset < data.Length)
        {
            WalRecord.Status status = WalRecord.TryDecode(data[offset..], seed, out WalRecordType type, out int payloadLength, out uint crc);
            if (status != WalRecord.Status.Ok)
            {
                HandleDamage(segment, data, offset, seed, status, last);
                break;
            }

            ReadOnlySpan<byte> payload = data.Slice(offset + WalRecord.HeaderSize, payloadLength);
            if (!sawHeader)
            {
                if (type != WalRecordType.SegmentHeader)
                {
                    throw new WalCorruptedException(segment.Path, offset, $"segment starts with a {type} record instead of a segment header");
                }

                CheckHeader(segment, payload, first, previousEnd);
                sawHeader = true;
            }
            else
            {
                Apply(segment, offset, type, payload);
            }

            seed = crc;
            offset += WalRecord.HeaderSize + payloadLength;
        }

        if (!sawHeader)
        {
            if (!last)
            {
                throw new WalCorruptedException(segment.Path, 0, "segment has no valid header record");
            }

            // The last segment lost even its header (torn while being created): the chain continues
            // from the previous segment and the writer rewrites the header.
            seed = previousEnd;
        }

        Crc = seed;
        return offset;
    }

    private static void CheckHeader(WalSegment segment, ReadOnlySpan<byte> payload, bool first, uint previousEnd)
    {
        if (!WalSegment.TryReadHeader(payload, out ulong sequence, out ulong firstIndex, out uint previousCrc))
        {
            throw new WalCorruptedException(segment.Path, 0, "segment header has an unknown format or version");
        }

        if (sequence != segment.Sequence || firstIndex != segment.FirstIndex)
        {
            throw new WalCorruptedException(segment.Path, 0, $"segment header says sequence {sequence}, first index {firstIndex}, which does not match the file name");
        }

        if (!first && previousCrc != previousEnd)
        {
            throw new WalCorruptedException(segment.Path, 0, $"checksum chain broken between segments (previous segment ended with 0x{previousEnd:x8}, header expects 0x{previousCrc:x8})");
        }
    }

    private void Apply(WalSegment segment, int offset, WalRecordType type, ReadOnlySpan<byte> payload)
    {
        try
        {
            switch (type)
            {
                case WalRecordType.Entry:
                    AddEntry(Entry.Parser.ParseFrom(payload), segment, offset);
                    break;
                case WalRecordType.HardState:
                    HardState = HardState.Parser.ParseFrom(payload);
                    break;
                case WalRecordType.Snapshot:
                    SnapshotMetadata marker = SnapshotMetadata.Parser.ParseFrom(payload);
                    Snapshot = marker;
                    segment.SnapshotIndexes.Add(marker.Index);
                    OnSnapshotMarker(marker);
                    break;
                default:
                    throw new WalCorruptedException(segment.Path, offset, $"unexpected {type} record inside a segment");
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new WalCorruptedException(segment.Path, offset, $"{type} record has a valid checksum but cannot be decoded ({e.Message})");
        }
    }

    private void AddEntry(Entry entry, WalSegment segment, int offset)
    {
        ulong index = entry.Index;
        _lastIndexWritten = index;
        if (_floor is ulong floor && index <= floor)
        {
            return; // covered by the snapshot
        }

        if (_entries.Count == 0)
        {
            if (_expectedFirst is ulong expected && index != expected)
            {
                throw new WalCorruptedException(segment.Path, offset, $"entries are missing: expected index {expected} next, found {index}");
            }
        }
        else
        {
            ulong last = _entries[^1].Index;
            if (index > last + 1)
            {
                throw new WalCorruptedException(segment.Path, offset, $"entries are missing: expected index {last + 1} next, found {index}");
            }

            if (index <= last)
            {
                // Raft overwrote an uncommitted tail: this record and the ones after it win.
                ulong first = _entries[0].Index;
                if (index <= first)
                {
                    _entries.Clear();
                }
                else
                {
                    int keep = (int)(index - first);
                    _entries.RemoveRange(keep, _entries.Count - keep);
                }
            }
        }

        _entries.Add(entry);
    }

    private void OnSnapshotMarker(SnapshotMetadata marker)
    {
        if (_start is not null)
        {
            return; // the caller chose the snapshot to replay from
        }

        _floor = Math.Max(_floor ?? 0, marker.Index);
        if (_entries.Count > 0 && _entries[0].Index <= marker.Index)
        {
            ulong covered = marker.Index - _entries[0].Index + 1;
            _entries.RemoveRange(0, (int)Math.Min((ulong)_entries.Count, covered));
        }

        if (_entries.Count == 0)
        {
            _expectedFirst = marker.Index + 1;
        }
    }

    private void HandleDamage(WalSegment segment, ReadOnlySpan<byte> data, int offset, uint seed, WalRecord.Status status, bool last)
    {
        string what = Describe(status);
        if (!last)
        {
            throw new WalCorruptedException(segment.Path, offset, $"{what} in a segment that is not the last one");
        }

        ReadOnlySpan<byte> rest = data[offset..];
        string kind;
        if (!rest.ContainsAnyExcept((byte)0))
        {
            kind = "zeroed space";
        }
        else
        {
            int follower = FindValidRecordAfter(data, offset, seed, out int damagedEnd);
            if (follower < 0)
            {
                kind = what;
            }
            else if (HasZeroSector(data, offset, damagedEnd))
            {
                kind = $"{what} with a never-written (zeroed) sector; records after it were not synced";
            }
            else
            {
                throw new WalCorruptedException(segment.Path, offset, $"{what} in the middle of the log (a valid record follows at offset {follower})");
            }
        }

        if (kind == "zeroed space")
        {
            // The segment's preallocated remainder (or a batch that never reached the disk at all).
            return;
        }

        _logger.LogWarning(
            "WAL segment {File}: discarding {Bytes} bytes of torn tail at offset {Offset} ({Kind}).",
            segment.Path,
            rest.Length,
            offset,
            kind);
    }

    /// <summary>
    /// Looks for a valid record after the damaged one at <paramref name="offset"/>: first where the
    /// damaged record's own length says the next one starts (chained from either its stored or its
    /// recomputed checksum, covering damage in the payload or in the checksum field), then anywhere
    /// after it chained from the stored checksum (covering damage in the length field).
    /// </summary>
    /// <returns>The offset of a valid record, or -1.</returns>
    private static int FindValidRecordAfter(ReadOnlySpan<byte> data, int offset, uint seed, out int damagedEnd)
    {
        ReadOnlySpan<byte> rest = data[offset..];
        damagedEnd = data.Length;
        if (rest.Length < WalRecord.HeaderSize)
        {
            return -1;
        }

        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(rest);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(rest[4..]);
        if (length <= (uint)(rest.Length - WalRecord.HeaderSize))
        {
            int next = offset + WalRecord.HeaderSize + (int)length;
            damagedEnd = next;
            uint recomputed = Crc32C.Append(seed, rest[4..(WalRecord.HeaderSize + (int)length)]);
            if (IsValidAt(data, next, stored) || IsValidAt(data, next, recomputed))
            {
                return next;
            }
        }

        int position = offset + 1;
        while (position + WalRecord.HeaderSize <= data.Length)
        {
            // Jump to the next magic byte (offset 9 of a frame header).
            int found = data[(position + 9)..].IndexOf(WalRecord.Magic);
            if (found < 0)
            {
                break;
            }

            position += found;
            if (position + WalRecord.HeaderSize > data.Length)
            {
                break;
            }

            if (WalRecord.LooksLikeHeader(data[position..]) && IsValidAt(data, position, stored))
            {
                return position;
            }

            position++;
        }

        return -1;
    }

    private static bool IsValidAt(ReadOnlySpan<byte> data, int position, uint seed) =>
        position < data.Length
        && WalRecord.TryDecode(data[position..], seed, out _, out _, out _) == WalRecord.Status.Ok;

    /// <summary>True when an aligned sector overlapping [start, end) is entirely zero.</summary>
    private static bool HasZeroSector(ReadOnlySpan<byte> data, int start, int end)
    {
        for (int sector = start / SectorSize * SectorSize; sector < end; sector += SectorSize)
        {
            int sectorEnd = Math.Min(sector + SectorSize, data.Length);
            if (!data[sector..sectorEnd].ContainsAnyExcept((byte)0))
            {
                return true;
            }
        }

        return false;
    }

    private static string Describe(WalRecord.Status status) => status switch
    {
        WalRecord.Status.Truncated => "partially written record",
        WalRecord.Status.BadHeader => "invalid record header",
        WalRecord.Status.ChecksumMismatch => "checksum mismatch",
        _ => status.ToString(),
    };
}
