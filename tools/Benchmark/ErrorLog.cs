using Grpc.Core;

namespace Coordination.Benchmark;

/// <summary>Counts failed requests; prints only the first few so a dead target does not flood the terminal.</summary>
internal sealed class ErrorLog
{
    private const int MaxPrinted = 5;
    private long _count;

    public long Count => Volatile.Read(ref _count);

    public void Add(Exception exception, string what = "request")
    {
        var n = Interlocked.Increment(ref _count);
        if (n <= MaxPrinted)
        {
            Console.Error.WriteLine($"error #{n} ({what}): {Describe(exception)}");
        }
        else if (n == MaxPrinted + 1)
        {
            Console.Error.WriteLine("further errors are counted, not printed");
        }
    }

    public static string Describe(Exception exception) => exception switch
    {
        RpcException rpc => $"{rpc.StatusCode}: {rpc.Status.Detail}",
        _ => $"{exception.GetType().Name}: {exception.Message}",
    };

    /// <summary>True when the exception only reflects our own cancellation (Ctrl-C or end of run), not a failure.</summary>
    public static bool IsOwnCancellation(Exception exception, CancellationToken token) =>
        token.IsCancellationRequested
        && exception is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled };
}
