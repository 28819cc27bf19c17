using System.Runtime.InteropServices;
using Coordination.Benchmark;

try
{
    var options = Options.Parse(args);
    if (options.Help)
    {
        Console.Out.WriteLine(Options.UsageText);
        return 0;
    }

    using var cancellation = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        cancellation.Cancel();
    };
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
    {
        context.Cancel = true;
        cancellation.Cancel();
    });

    using var pool = new ChannelPool(options.Endpoints, options.Conns);
    await using var sdk = new SdkClients(options);
    string description;
    return options.Mode switch
    {
        "put" when options.Api == "sdk" => await ClosedLoopRunner.RunAsync(options, pool, SdkModes.Put(options, sdk, out description), description, cancellation.Token),
        "range" when options.Api == "sdk" => await ClosedLoopRunner.RunAsync(options, pool, SdkModes.Range(options, sdk, out description), description, cancellation.Token),
        _ when options.Api == "sdk" => throw new FormatException($"--api sdk supports put and range, not '{options.Mode}'"),
        "put" => await ClosedLoopRunner.RunAsync(options, pool, PutMode.Factory(options, out description), description, cancellation.Token),
        "txn-put" => await ClosedLoopRunner.RunAsync(options, pool, TxnPutMode.Factory(options, out description), description, cancellation.Token),
        "range" => await ClosedLoopRunner.RunAsync(options, pool, RangeMode.Factory(options, out description), description, cancellation.Token),
        "watch" => await WatchMode.RunAsync(options, pool, cancellation.Token),
        "lease-keepalive" => await LeaseKeepAliveMode.RunAsync(options, pool, cancellation.Token),
        _ => throw new FormatException($"unknown mode '{options.Mode}'"),
    };
}
catch (FormatException e)
{
    Console.Error.WriteLine($"benchmark: {e.Message}");
    Console.Error.WriteLine(Options.UsageText);
    return 2;
}
