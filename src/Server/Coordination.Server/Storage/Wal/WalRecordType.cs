namespace Coordination.Server.Storage.Wal;

/// <summary>The kind of a WAL record; stored in byte 8 of the record frame.</summary>
internal enum WalRecordType : byte
{
    /// <summary>First record of every segment: format version, segment sequence, first index and the
    /// checksum chain value the previous segment ended with (the CRC seed carried across segments).</summary>
    SegmentHeader = 1,

    /// <summary>A raft log entry (<c>raftpb.Entry</c>, protobuf).</summary>
    Entry = 2,

    /// <summary>The raft hard state (<c>raftpb.HardState</c>, protobuf).</summary>
    HardState = 3,

    /// <summary>A snapshot marker (<c>raftpb.SnapshotMetadata</c>, protobuf): a snapshot at that
    /// index/term exists, entries up to it may be released.</summary>
    Snapshot = 4,
}
