using Coordination.Server.Hosting;
using Etcdserverpb;

namespace Coordination.Server.Node;

/// <summary>
/// Compacts history automatically, through the write path like any other compaction.
/// Revision mode: every five minutes, compact to (current revision − retention).
/// Periodic mode: sample the revision every tenth of min(retention, 1 h); once a sample is at
/// least one retention old and min(retention, 1 h) has passed since the last compaction,
/// compact to the newest such sample.
/// </summary>
internal sealed class AutoCompactor : IAsyncDisposable
{
    private static readonly TimeSpan RevisionModeInterval = TimeSpan.FromMinutes(5);

    private readonly AutoCompaction _settings;
    private readonly CoordinationNode _node;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Queue<(DateTimeOffset At, long Revision)> _samples = new();
    private readonly ITimer? _timer;
    private readonly SemaphoreSlim _busy = new(1, 1);
    private DateTimeOffset _lastCompaction;

    public AutoCompactor(AutoCompaction settings, CoordinationNode node, TimeProvider time, ILogger<AutoCompactor> logger)
    {
        _settings = settings;
        _node = node;
        _time = time;
        _logger = logger;
        _lastCompaction = time.GetUtcNow();
        if (!settings.Enabled) return;
        var interval = settings.Mode == "revision" ? RevisionModeInterval : SampleInterval;
        _timer = time.CreateTimer(_ => _ = RunOnceAsync(), null, interval, interval);
    }

    private TimeSpan Cadence => _settings.Period < TimeSpan.FromHours(1) ? _settings.Period : TimeSpan.FromHours(1);

    private TimeSpan SampleInterval => Cadence / 10;

    /// <summary>One step of the schedule (the timer calls it; tests may too).</summary>
    public async Task RunOnceAsync()
    {
        if (!await _busy.WaitAsync(0).ConfigureAwait(false)) return;
        try
        {
            var target = NextTarget();
            if (target <= _node.CompactRevision) return;
            await _node.CompactAsync(new CompactionRequest { Revision = target }, CancellationToken.None).ConfigureAwait(false);
            _lastCompaction = _time.GetUtcNow();
            _logger.LogInformation("auto-compaction ({Mode}) compacted to revision {Revision}", _settings.Mode, target);
        }
        catch (Exception ex)
        {
            _logger.LogWarning(ex, "auto-compaction failed; will retry");
        }
        finally
        {
            _busy.Release();
        }
    }

    private long NextTarget()
    {
        var current = _node.CurrentRevision;
        if (_settings.Mode == "revision") return current - _settings.Revisions;
        var now = _time.GetUtcNow();
        _samples.Enqueue((now, current));
        long target = 0;
        while (_samples.Count > 0 && now - _samples.Peek().At >= _settings.Period) target = _samples.Dequeue().Revision;
        if (target == 0 || now - _lastCompaction < Cadence) return 0;
        return target;
    }

    public async ValueTask DisposeAsync()
    {
        if (_timer is not null) await _timer.DisposeAsync().ConfigureAwait(false);
        _busy.Dispose();
    }
}
