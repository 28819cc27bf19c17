using System.Collections.Concurrent;
using Coordination.Client;
using Coordination.Client.Kv;
using Grpc.Net.Client;

namespace Coordination.Benchmark;

/// <summary>
/// One <see cref="ICoordinationClient"/> per gRPC channel of the pool (so <c>--conns</c> means the same
/// number of connections for both APIs), each on the endpoint its channel would use.
/// </summary>
internal sealed class SdkClients(Options options) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<GrpcChannel, ICoordinationClient> _clients = new();

    public ICoordinationClient For(GrpcChannel channel) => _clients.GetOrAdd(channel, _ => CoordinationClient.Create(new CoordinationClientOptions
    {
        Endpoints = [options.Endpoints[_clients.Count % options.Endpoints.Count]],
        CallTimeout = TimeSpan.FromSeconds(options.RequestTimeoutSeconds),
        MaxRetries = 0,
    }));

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients.Values)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary><c>put</c> and <c>range</c> through the SDK: the same requests as the stub modes.</summary>
internal static class SdkModes
{
    public static Func<GrpcChannel, IRequestOperation> Put(Options options, SdkClients clients, out string description)
    {
        var keys = new KeySpace(options.KeySize, options.KeySpaceSize, options.SequentialKeys, options.Total);
        var value = KeySpace.RandomValue(options.ValSize).Memory;
        description = $"SDK, key-size {options.KeySize}, val-size {options.ValSize}, key-space {options.KeySpaceSize} ({(options.SequentialKeys ? "sequential" : "random")})";
        return channel => new PutClient(clients.For(channel).Kv, keys, value);
    }

    public static Func<GrpcChannel, IRequestOperation> Range(Options options, SdkClients clients, out string description)
    {
        var key = KeyRangeBytes(options.RangeKey!);
        var end = options.RangeEnd is null ? ReadOnlyMemory<byte>.Empty : KeyRangeBytes(options.RangeEnd);
        var range = new RangeOptions { Serializable = options.Serializable };
        description = $"SDK, key '{options.RangeKey}'{(options.RangeEnd is null ? "" : $" to '{options.RangeEnd}'")}, {(options.Serializable ? "serializable" : "linearizable")}";
        return channel => new RangeClient(clients.For(channel).Kv, key, end, range);
    }

    private static byte[] KeyRangeBytes(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    private sealed class PutClient(IKvClient kv, KeySpace keys, ReadOnlyMemory<byte> value) : IRequestOperation
    {
        public Task ExecuteAsync(long sequence, DateTime deadline, CancellationToken cancellationToken) =>
            kv.PutAsync(keys.KeyFor(sequence).Memory, value, null, cancellationToken);
    }

    private sealed class RangeClient(IKvClient kv, ReadOnlyMemory<byte> key, ReadOnlyMemory<byte> end, RangeOptions options) : IRequestOperation
    {
        public Task ExecuteAsync(long sequence, DateTime deadline, CancellationToken cancellationToken) =>
            kv.RangeAsync(key, end, options, cancellationToken);
    }
}
