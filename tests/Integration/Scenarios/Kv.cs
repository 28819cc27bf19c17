using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Coordination.Integration.Tests.Scenarios;

/// <summary>Small KV calls against one member, over the generated etcd stubs, with a deadline per call.</summary>
internal sealed class Kv(Uri endpoint) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress(endpoint);

    private KV.KVClient Client => new(_channel);

    public async Task<long> PutAsync(string key, string value, CancellationToken cancellationToken)
    {
        var response = await Client.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) }, Options(cancellationToken));
        return response.Header.Revision;
    }

    public async Task<IReadOnlyDictionary<string, string>> GetPrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        var end = prefix[..^1] + (char)(prefix[^1] + 1);
        var response = await Client.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8(prefix), RangeEnd = ByteString.CopyFromUtf8(end) }, Options(cancellationToken));
        return response.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), kv => kv.Value.ToStringUtf8());
    }

    private static CallOptions Options(CancellationToken cancellationToken) => new(deadline: DateTime.UtcNow + Deadline, cancellationToken: cancellationToken);

    public void Dispose() => _channel.Dispose();
}
