using Coordination.Client;

namespace Coordination.Concurrency.Stm;

/// <summary>Runs a function over a fresh <see cref="StmTransaction"/> until its commit succeeds, backing off between conflicts.</summary>
internal sealed class StmRunner(ICoordinationClient client, TimeProvider time)
{
    public async Task<StmResult> RunAsync(Func<IStm, CancellationToken, Task> apply, StmOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(apply);
        options ??= new StmOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxAttempts, 1);
        var jitter = options.JitterSeed is { } seed ? new Random(seed) : new Random();
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var transaction = new StmTransaction(client.Kv, options.Isolation);
            await transaction.PrefetchAsync(options.Prefetch, cancellationToken).ConfigureAwait(false);
            await apply(transaction, cancellationToken).ConfigureAwait(false);
            var result = await transaction.BuildCommit().CommitAsync(cancellationToken).ConfigureAwait(false);
            if (result.Succeeded)
            {
                return new StmResult(result.Header.Revision, attempt);
            }

            if (attempt >= options.MaxAttempts)
            {
                throw new StmConflictException(attempt);
            }

            await Task.Delay(Backoff(options, attempt, jitter), time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Exponential in the attempt, capped, with half of it random so that conflicting writers spread out.</summary>
    private static TimeSpan Backoff(StmOptions options, int attempt, Random jitter)
    {
        var exponential = options.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 20));
        var capped = Math.Min(exponential, options.MaxBackoff.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped / 2 + (jitter.NextDouble() * capped / 2));
    }
}
