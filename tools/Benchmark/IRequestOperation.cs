namespace Coordination.Benchmark;

/// <summary>One client's request of a closed-loop mode; it owns a reusable request message, so one call at a time.</summary>
internal interface IRequestOperation
{
    /// <summary>Sends request number <paramref name="sequence"/> and completes when its response arrived.</summary>
    Task ExecuteAsync(long sequence, DateTime deadline, CancellationToken cancellationToken);
}
