namespace Coordination.Server.Storage.Snapshots;

/// <summary>
/// Keeps a bulk writer, such as the thread that writes a snapshot image, to a share of one core:
/// <see cref="Pace"/> is called between chunks, and once the writer has worked for a slice it rests
/// for as long as keeps it at that share. The writer stays at normal priority. Lowering its priority
/// instead (nice 19, what this replaced) let a stop-the-world garbage collection wait for it: the
/// runtime must bring every thread to a safe point, and a thread at nice 19 on busy cores runs
/// rarely, so in 64-client put runs a member's longest collection pause while it wrote its snapshot
/// was 14-93 ms (5 runs; 7-15 ms in 3 runs paced, docs/benchmarks.md). A resting thread is already
/// at a safe point.
/// </summary>
internal sealed class WritePacer
{
    private readonly TimeProvider _time;
    private readonly Action<TimeSpan> _rest;
    private readonly TimeSpan _slice;
    private readonly double _restPerWork;

    /// <summary>Slices of work at most counted towards one rest: a writer that was itself kept off the
    /// cores for long (or a test clock moved far ahead) does not then rest for a multiple of that.</summary>
    private const int MaxSlicesPerRest = 4;
    private long _sliceStart;

    /// <param name="time">The clock that measures work.</param>
    /// <param name="slice">Work between two rests.</param>
    /// <param name="share">The share of a core the writer may take, in (0, 1].</param>
    /// <param name="rest">Blocks the calling thread for a while (<see cref="Thread.Sleep(TimeSpan)"/> when null).</param>
    public WritePacer(TimeProvider time, TimeSpan slice, double share, Action<TimeSpan>? rest = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(slice, TimeSpan.Zero);
        if (!(share > 0 && share <= 1)) throw new ArgumentOutOfRangeException(nameof(share), share, "The share must be in (0, 1].");
        _time = time;
        _slice = slice;
        _restPerWork = (1 - share) / share;
        _rest = rest ?? Thread.Sleep;
        _sliceStart = time.GetTimestamp();
    }

    /// <summary>Total time spent resting so far.</summary>
    public TimeSpan Rested { get; private set; }

    /// <summary>Between two chunks of work: rests when a slice of work is done.</summary>
    public void Pace()
    {
        var worked = _time.GetElapsedTime(_sliceStart);
        if (worked < _slice) return;
        var counted = worked > _slice * MaxSlicesPerRest ? _slice * MaxSlicesPerRest : worked;
        var rest = counted * _restPerWork;
        if (rest > TimeSpan.Zero)
        {
            _rest(rest);
            Rested += rest;
        }
        _sliceStart = _time.GetTimestamp();
    }
}
