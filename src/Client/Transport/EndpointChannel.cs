using Grpc.Core;
using Grpc.Net.Client;

namespace Coordination.Client.Transport;

/// <summary>One endpoint: its address, its gRPC channel, and when it may be used again after a transport failure.</summary>
internal sealed class EndpointChannel(string address, GrpcChannel channel) : IDisposable
{
    private long _unhealthyUntilTicks;

    public string Address { get; } = address;

    public GrpcChannel Channel { get; } = channel;

    public CallInvoker Invoker { get; } = channel.CreateCallInvoker();

    public DateTimeOffset UnhealthyUntil
    {
        get => new(Interlocked.Read(ref _unhealthyUntilTicks), TimeSpan.Zero);
        set => Interlocked.Exchange(ref _unhealthyUntilTicks, value.UtcTicks);
    }

    public bool IsHealthy(DateTimeOffset now) => UnhealthyUntil <= now;

    public override string ToString() => Address;

    public void Dispose() => Channel.Dispose();
}
