using Etcdserverpb;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Coordination.Benchmark;

/// <summary><c>txn-put</c>: a Txn without compares whose success branch is one Put.</summary>
internal sealed class TxnPutMode
{
    private TxnPutMode()
    {
    }

    public static Func<GrpcChannel, IRequestOperation> Factory(Options options, out string description)
    {
        var keys = new KeySpace(options.KeySize, options.KeySpaceSize, options.SequentialKeys, options.Total);
        var value = KeySpace.RandomValue(options.ValSize);
        description = $"txn with one put, key-size {options.KeySize}, val-size {options.ValSize}, key-space {options.KeySpaceSize} ({(options.SequentialKeys ? "sequential" : "random")})";
        return channel => new Client(new KV.KVClient(channel), keys, value);
    }

    private sealed class Client : IRequestOperation
    {
        private readonly KV.KVClient _kv;
        private readonly KeySpace _keys;
        private readonly PutRequest _put;
        private readonly TxnRequest _request;

        public Client(KV.KVClient kv, KeySpace keys, ByteString value)
        {
            _kv = kv;
            _keys = keys;
            _put = new PutRequest { Value = value };
            _request = new TxnRequest { Success = { new RequestOp { RequestPut = _put } } };
        }

        public Task ExecuteAsync(long sequence, DateTime deadline, CancellationToken cancellationToken)
        {
            _put.Key = _keys.KeyFor(sequence);
            return _kv.TxnAsync(_request, deadline: deadline, cancellationToken: cancellationToken).ResponseAsync;
        }
    }
}
