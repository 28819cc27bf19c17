using System.Diagnostics;

namespace Coordination.Benchmark;

/// <summary>
/// Stores every latency (Stopwatch ticks) lock-free in fixed-size chunks. The expected count is preallocated up
/// front; a run bounded only by a duration allocates further chunks as it goes, rarely and off the common path.
/// </summary>
internal sealed class LatencyRecorder
{
    private const int ChunkBits = 16;
    private const int ChunkSize = 1 << ChunkBits;
    private const long ChunkMask = ChunkSize - 1;

    /// <summary>Upper bound for the preallocation (16 Mi entries, 128 MiB); beyond it chunks are added on demand.</summary>
    private const long MaxPreallocated = 1L << 24;

    /// <summary>Preallocation when no count is known (a run bounded by duration): 1 Mi entries.</summary>
    private const long UnknownPreallocated = 1L << 20;

    private readonly Lock _growLock = new();
    private long[]?[] _chunks;
    private long _count;

    public LatencyRecorder(long expected)
    {
        var preallocate = expected == long.MaxValue ? UnknownPreallocated : Math.Clamp(expected, 1, MaxPreallocated);
        var chunkCount = (int)((preallocate + ChunkSize - 1) >> ChunkBits);
        _chunks = new long[]?[Math.Max(chunkCount, 16)];
        for (var c = 0; c < chunkCount; c++)
        {
            _chunks[c] = new long[ChunkSize];
        }
    }

    public long Count => Volatile.Read(ref _count);

    public void Record(long ticks)
    {
        var index = Interlocked.Increment(ref _count) - 1;
        var c = (int)(index >> ChunkBits);
        var chunks = Volatile.Read(ref _chunks);
        var chunk = (c < chunks.Length ? chunks[c] : null) ?? Grow(c);
        chunk[index & ChunkMask] = ticks;
    }

    /// <summary>Copies the recorded latencies into one array; call after every recording thread has finished.</summary>
    public long[] ToArray()
    {
        var count = Count;
        var result = new long[count];
        var chunks = Volatile.Read(ref _chunks);
        for (long copied = 0; copied < count; copied += ChunkSize)
        {
            var n = (int)Math.Min(count - copied, ChunkSize);
            Array.Copy(chunks[(int)(copied >> ChunkBits)]!, 0, result, copied, n);
        }

        return result;
    }

    public static double TicksToMs(double ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private long[] Grow(int c)
    {
        lock (_growLock)
        {
            var chunks = _chunks;
            if (c >= chunks.Length)
            {
                var bigger = new long[]?[Math.Max(c + 1, chunks.Length * 2)];
                Array.Copy(chunks, bigger, chunks.Length);
                chunks = bigger;
            }

            // Existing chunks are shared by reference, so writers still holding the old outer array lose nothing.
            var chunk = chunks[c] ??= new long[ChunkSize];
            Volatile.Write(ref _chunks, chunks);
            return chunk;
        }
    }
}
