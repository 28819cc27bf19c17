using Etcdserverpb;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Coordination.Benchmark;

/// <summary><c>put</c>: one Put per request, keys from the key space, one random value reused.</summary>
internal sealed class PutMode
{
    private PutMode()
    {
    }

    public static Func<GrpcChannel, IRequestOperation> Factory(Options options, out string description)
    {
        var keys = new KeySpace(options.KeySize, options.KeySpaceSize, options.SequentialKeys, options.Total);
        var value = KeySpace.RandomValue(options.ValSize);
        description = $"key-size {options.KeySize}, val-size {options.ValSize}, key-space {options.KeySpaceSize} ({(options.SequentialKeys ? "sequential" : "random")})";
        return channel => new Client(new KV.KVClient(channel), keys, value);
    }

    private sealed class Client(KV.KVClient kv, KeySpace keys, ByteString value) : IRequestOperation
    {
        private readonly PutRequest _request = new() { Value = value };

        public Task ExecuteAsync(long sequence, DateTime deadline, CancellationToken cancellationToken)
        {
            _request.Key = keys.KeyFor(sequence);
            return kv.PutAsync(_request, deadline: deadline, cancellationToken: cancellationToken).ResponseAsync;
        }
    }
}
