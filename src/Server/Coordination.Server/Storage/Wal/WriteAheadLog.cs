using System.Buffers;
using Coordination.Raft.Protocol;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace Coordination.Server.Storage.Wal;

/// <summary>
/// The segmented write-ahead log of raft entries, hard states and snapshot markers (format in
/// <c>docs/storage.md</c>). Durability rule: nothing that depends on an appended record (a reply to a
/// client, a vote, an append acknowledgement to the leader) may leave the node before
/// <see cref="Sync"/> has returned.
/// </summary>
/// <remarks>
/// Not thread-safe: it is owned by the single-threaded node loop, which calls <see cref="Append"/>
/// for everything a <c>Ready</c> holds and then <see cref="Sync"/> once (group commit). After an I/O
/// failure the log refuses further use; the process should restart and replay, since after a failed
/// fsync the kernel may have dropped dirty pages and nothing can be assumed about them.
/// A lock file (<c>wal.lock</c>) is held open with <see cref="FileShare.None"/>, which takes an
/// advisory lock on Unix, so a second instance on the same directory fails to open.
/// </remarks>
internal sealed class WriteAheadLog : IDisposable
{
    private readonly string _directory;
    private readonly WalOptions _options;
    private readonly ILogger _logger;
    private readonly List<WalSegment> _segments;
    private readonly ArrayBufferWriter<byte> _buffer;
    private readonly SegmentPreparer? _preparer;
    private SafeFileHandle? _lock;
    private SafeFileHandle? _tail;
    private long _tailLength;
    private bool _unsynced;
    private uint _crc;
    private ulong _lastIndex;
    private HardState? _hardState;
    private Exception? _failure;
    private bool _disposed;

    private WriteAheadLog(string directory, WalOptions options, ILogger logger, List<WalSegment> segments)
    {
        _directory = directory;
        _options = options;
        _logger = logger;
        _segments = segments;
        _buffer = new ArrayBufferWriter<byte>(Math.Min(options.WriteBufferBytes, 64 * 1024));
        _preparer = options.PreallocateSegments ? new SegmentPreparer(directory, options.SegmentSizeBytes) : null;
    }

    /// <summary>The directory holding the segments.</summary>
    public string Directory => _directory;

    /// <summary>Number of file fsyncs issued by <see cref="Sync"/> and segment cuts (diagnostics, tests).</summary>
    public long SyncCount { get; private set; }

    /// <summary>Name of the lock file held while the log is open.</summary>
    public const string LockFileName = "wal.lock";

    /// <summary>Index of the last entry appended (or of the replay floor when there is none).</summary>
    public ulong LastIndex => _lastIndex;

    /// <summary>Paths of the current segment files, oldest first.</summary>
    public IReadOnlyList<string> SegmentPaths => _segments.ConvertAll(s => s.Path);

    /// <summary>Opens (or creates) the log in <paramref name="directory"/> and replays all of it.</summary>
    /// <inheritdoc cref="Open(string, WalOptions, ILogger, WalReplayStart?, out WalReplay)"/>
    public static WriteAheadLog Open(string directory, WalOptions options, ILogger logger, out WalReplay replay) =>
        Open(directory, options, logger, null, out replay);

    /// <summary>
    /// Opens the log in <paramref name="directory"/>, creating the directory and the first segment when
    /// missing, and replays it. A torn tail of the last segment is cut off with a warning; any other
    /// damage throws.
    /// </summary>
    /// <param name="directory">The WAL directory.</param>
    /// <param name="options">Segment size and buffering.</param>
    /// <param name="logger">Receives repair warnings.</param>
    /// <param name="start">The snapshot the caller restored, if any: entries at or below its index are
    /// skipped and the next entry must follow it. When null, replay starts after the newest snapshot
    /// marker found in the log.</param>
    /// <param name="replay">Hard state, newest snapshot marker and live entries read back.</param>
    /// <exception cref="WalCorruptedException">The log is damaged outside its unsynced tail.</exception>
    public static WriteAheadLog Open(string directory, WalOptions options, ILogger logger, WalReplayStart? start, out WalReplay replay)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        directory = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(directory))
        {
            System.IO.Directory.CreateDirectory(directory);
            if (Path.GetDirectoryName(directory) is { } parent)
            {
                DirectorySync.Flush(parent);
            }
        }

        foreach (string temp in System.IO.Directory.EnumerateFiles(directory, "*" + WalSegment.Extension + WalSegment.TempSuffix))
        {
            logger.LogInformation("WAL: deleting {File}, a segment whose creation did not finish.", temp);
            File.Delete(temp);
        }

        SafeFileHandle lockHandle = File.OpenHandle(Path.Combine(directory, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        WriteAheadLog wal;
        try
        {
            wal = new WriteAheadLog(directory, options, logger, ListSegments(directory)) { _lock = lockHandle };
        }
        catch
        {
            lockHandle.Dispose();
            throw;
        }

        List<WalSegment> segments = wal._segments;
        try
        {
            if (segments.Count == 0)
            {
                ulong firstIndex = (start?.Index ?? 0) + 1;
                wal._lastIndex = firstIndex - 1;
                wal.StartSegment(0, firstIndex);
                replay = new WalReplay(null, null, [], 0);
                return wal;
            }

            var reader = new WalReader(logger, start);
            reader.ReadAll(segments);
            WalSegment tail = segments[^1];
            wal._tail = File.OpenHandle(tail.Path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            if (reader.DiscardedBytes > 0)
            {
                RandomAccess.SetLength(wal._tail, reader.TailLength);
                // Appends go on into written zeros, as in a segment from the preparer.
                if (options.PreallocateSegments) SegmentPreparer.WriteZeros(wal._tail, reader.TailLength, options.SegmentSizeBytes);
                RandomAccess.FlushToDisk(wal._tail);
            }

            wal._tailLength = reader.TailLength;
            wal._crc = reader.Crc;
            wal._hardState = reader.HardState?.Clone();
            wal._lastIndex = reader.LastIndex;
            if (reader.TailLength == 0)
            {
                // The tail lost its header: write it again, exactly as a cut would have.
                wal.EncodeSegmentStart(tail.Sequence, tail.FirstIndex);
                wal.WriteBuffer();
                wal.Sync();
            }

            replay = new WalReplay(reader.HardState, reader.Snapshot, reader.Entries, reader.DiscardedBytes);
            wal._preparer?.Start();
            return wal;
        }
        catch
        {
            wal._tail?.Dispose();
            wal._lock?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Encodes <paramref name="entries"/> and then <paramref name="hardState"/> (when not null) into
    /// the write buffer. Not durable until <see cref="Sync"/> returns. Entries must be contiguous; an
    /// entry whose index is at or below <see cref="LastIndex"/> overwrites that index and everything
    /// after it (raft replacing an uncommitted tail).
    /// </summary>
    /// <remarks>May write buffered bytes to the file (without fsync) and may cut a new segment, which
    /// fsyncs the previous one.</remarks>
    public void Append(HardState? hardState, IReadOnlyList<Entry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ThrowIfUnusable();
        if (entries.Count == 0 && hardState is null)
        {
            return;
        }

        try
        {
            if (_tailLength + _buffer.WrittenCount >= _options.SegmentSizeBytes)
            {
                Cut(entries.Count > 0 ? entries[0].Index : _lastIndex + 1);
            }

            for (int i = 0; i < entries.Count; i++)
            {
                Entry entry = entries[i];
                Encode(WalRecordType.Entry, entry);
                _lastIndex = entry.Index;
            }

            if (hardState is not null)
            {
                Encode(WalRecordType.HardState, hardState);
                // Copied field by field into one owned instance: no allocation per append.
                _hardState ??= new HardState();
                _hardState.Term = hardState.Term;
                _hardState.Vote = hardState.Vote;
                _hardState.Commit = hardState.Commit;
            }

            if (_buffer.WrittenCount >= _options.WriteBufferBytes)
            {
                WriteBuffer();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _failure = e;
            throw;
        }
    }

    /// <summary>Writes everything appended and flushes the segment to disk (<c>fdatasync</c>, see
    /// <see cref="FileDataSync"/>); when it returns, all of it is durable. Does nothing when nothing
    /// was appended since the last sync.</summary>
    public void Sync()
    {
        ThrowIfUnusable();
        try
        {
            WriteBuffer();
            if (_unsynced)
            {
                FileDataSync.Flush(_tail!);
                _unsynced = false;
                SyncCount++;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _failure = e;
            throw;
        }
    }

    /// <summary>Records that a snapshot at <paramref name="metadata"/> has been saved (save the snapshot
    /// file first) and syncs. Replay then starts after the newest marker, and
    /// <see cref="ReleaseTo"/> may drop segments before it.</summary>
    public void SaveSnapshotMarker(SnapshotMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ThrowIfUnusable();
        try
        {
            Encode(WalRecordType.Snapshot, metadata);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _failure = e;
            throw;
        }

        _segments[^1].SnapshotIndexes.Add(metadata.Index);
        _lastIndex = Math.Max(_lastIndex, metadata.Index);
        Sync();
    }

    /// <summary>
    /// Deletes whole segments that are no longer needed: those before the segment holding the newest
    /// snapshot marker at or below <paramref name="index"/>, and only while every live entry in them
    /// is covered by that marker (so also at or below <paramref name="index"/>). The tail segment is
    /// never deleted. Without such a marker nothing is deleted.
    /// </summary>
    /// <returns>The number of segments deleted.</returns>
    public int ReleaseTo(ulong index)
    {
        ThrowIfUnusable();
        int markerSegment = -1;
        ulong best = 0;
        for (int i = 0; i < _segments.Count; i++)
        {
            foreach (ulong marker in _segments[i].SnapshotIndexes)
            {
                if (marker <= index && (markerSegment < 0 || marker >= best))
                {
                    best = marker;
                    markerSegment = i;
                }
            }
        }

        // Segment k only holds live entries below segment k+1's first index. Bound by the marker, not
        // by index: entries between the snapshot and index are still needed to replay after it.
        int deletable = 0;
        while (deletable < markerSegment && _segments[deletable + 1].FirstIndex <= best + 1)
        {
            deletable++;
        }

        if (deletable == 0)
        {
            return 0;
        }

        for (int i = 0; i < deletable; i++)
        {
            File.Delete(_segments[i].Path);
        }

        _segments.RemoveRange(0, deletable);
        DirectorySync.Flush(_directory);
        _logger.LogDebug("WAL: released {Count} segments up to index {Index}.", deletable, index);
        return deletable;
    }

    /// <summary>Writes and fsyncs what is buffered (a clean shutdown) and closes the tail segment.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            if (_failure is null && _tail is not null)
            {
                Sync();
            }
        }
        finally
        {
            _disposed = true;
            _preparer?.Dispose();
            _tail?.Dispose();
            _lock?.Dispose();
        }
    }

    private static List<WalSegment> ListSegments(string directory)
    {
        var segments = new List<WalSegment>();
        foreach (string path in System.IO.Directory.EnumerateFiles(directory, "*" + WalSegment.Extension))
        {
            if (WalSegment.TryParseName(Path.GetFileName(path), out ulong sequence, out ulong firstIndex))
            {
                segments.Add(new WalSegment(sequence, firstIndex, path));
            }
        }

        segments.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        for (int i = 1; i < segments.Count; i++)
        {
            if (segments[i].Sequence == segments[i - 1].Sequence)
            {
                throw new WalCorruptedException(segments[i].Path, 0, $"two segments have sequence {segments[i].Sequence}");
            }

            if (segments[i].Sequence != segments[i - 1].Sequence + 1)
            {
                throw new WalCorruptedException(segments[i].Path, 0, $"segment sequence {segments[i - 1].Sequence + 1} is missing before this one");
            }
        }

        return segments;
    }

    /// <summary>Fsyncs the tail and continues in a new segment.</summary>
    private void Cut(ulong firstIndex)
    {
        Sync();
        WalSegment previous = _segments[^1];
        _tail!.Dispose();
        _tail = null;
        StartSegment(previous.Sequence + 1, firstIndex);
        _logger.LogDebug("WAL: cut segment {Sequence} at index {Index}.", previous.Sequence + 1, firstIndex);
    }

    /// <summary>
    /// Creates segment <paramref name="sequence"/> durably: header (and the current hard state, so
    /// releasing older segments never loses it) written to a temporary file (the zero-filled one from
    /// the <see cref="SegmentPreparer"/> when segments are preallocated), fsynced, renamed into place,
    /// directory fsynced; then opens it as the tail and has the next file prepared.
    /// </summary>
    private void StartSegment(ulong sequence, ulong firstIndex)
    {
        string path = Path.Combine(_directory, WalSegment.FileName(sequence, firstIndex));
        string temp = _preparer?.Take() ?? path + WalSegment.TempSuffix;
        EncodeSegmentStart(sequence, firstIndex);
        using (SafeFileHandle handle = File.OpenHandle(temp, _preparer is null ? FileMode.Create : FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            RandomAccess.Write(handle, _buffer.WrittenSpan, 0);
            RandomAccess.FlushToDisk(handle);
        }

        _tailLength = _buffer.WrittenCount;
        _buffer.ResetWrittenCount();
        File.Move(temp, path);
        DirectorySync.Flush(_directory);
        SyncCount++;
        _tail = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        _unsynced = false;
        _segments.Add(new WalSegment(sequence, firstIndex, path));
        _preparer?.Start();
    }

    /// <summary>Encodes a segment header (chain restarts at 0, carrying the previous chain value)
    /// and the current hard state into the (empty) buffer.</summary>
    private void EncodeSegmentStart(ulong sequence, ulong firstIndex)
    {
        uint previousCrc = _crc;
        const int size = WalRecord.HeaderSize + WalSegment.HeaderPayloadSize;
        Span<byte> frame = _buffer.GetSpan(size)[..size];
        WalSegment.WriteHeader(frame[WalRecord.HeaderSize..], sequence, firstIndex, previousCrc);
        _crc = WalRecord.Seal(frame, WalRecordType.SegmentHeader, 0);
        _buffer.Advance(size);
        if (_hardState is not null)
        {
            Encode(WalRecordType.HardState, _hardState);
        }
    }

    /// <summary>Frames <paramref name="message"/> straight into the write buffer, chaining the crc.</summary>
    private void Encode(WalRecordType type, IMessage message)
    {
        int payload = message.CalculateSize();
        int size = WalRecord.HeaderSize + payload;
        Span<byte> frame = _buffer.GetSpan(size)[..size];
        message.WriteTo(frame[WalRecord.HeaderSize..]);
        _crc = WalRecord.Seal(frame, type, _crc);
        _buffer.Advance(size);
    }

    /// <summary>Writes the buffer at the end of the tail segment (one pwrite, no fsync).</summary>
    private void WriteBuffer()
    {
        if (_buffer.WrittenCount == 0)
        {
            return;
        }

        RandomAccess.Write(_tail!, _buffer.WrittenSpan, _tailLength);
        _tailLength += _buffer.WrittenCount;
        _buffer.ResetWrittenCount();
        _unsynced = true;
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_failure is not null)
        {
            throw new InvalidOperationException("The WAL failed an earlier write or fsync and cannot be used; restart to replay it.", _failure);
        }
    }
}
