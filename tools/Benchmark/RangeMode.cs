using Etcdserverpb;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Coordination.Benchmark;

/// <summary><c>range &lt;key&gt; [end]</c>: the same Range request over and over, linearizable or serializable.</summary>
internal sealed class RangeMode
{
    private RangeMode()
    {
    }

    public static Func<GrpcChannel, IRequestOperation> Factory(Options options, out string description)
    {
        var key = ByteString.CopyFromUtf8(options.RangeKey!);
        var end = options.RangeEnd is null ? ByteString.Empty : ByteString.CopyFromUtf8(options.RangeEnd);
        description = $"key '{options.RangeKey}'{(options.RangeEnd is null ? "" : $" to '{options.RangeEnd}'")}, {(options.Serializable ? "serializable" : "linearizable")}";
        return channel => new Client(new KV.KVClient(channel), new RangeRequest { Key = key, RangeEnd = end, Serializable = options.Serializable });
    }

    private sealed class Client(KV.KVClient kv, RangeRequest request) : IRequestOperation
    {
        public Task ExecuteAsync(long sequence, DateTime deadline, CancellationToken cancellationToken)
        {
            var response = kv.RangeAsync(request, deadline: deadline, cancellationToken: cancellationToken).ResponseAsync;
            return sequence == 0 ? DescribeFirstAsync(response) : response;
        }

        /// <summary>Shows what the range returns, so a comparison of an empty answer with a full one is noticed.</summary>
        private static async Task DescribeFirstAsync(Task<RangeResponse> pending)
        {
            var response = await pending.ConfigureAwait(false);
            Console.Out.WriteLine($"first response: {response.Kvs.Count} key(s), count {response.Count}, revision {response.Header?.Revision}");
        }
    }
}
