using Coordination.Compatibility.Tests.Fixtures;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Coordination.Compatibility.Tests.BadInput;

/// <summary>The outcome of one gRPC call: a response (as protobuf JSON, volatile header fields
/// cleared) or a status code and detail.</summary>
internal sealed record CallOutcome(StatusCode Code, string Detail, string? Response)
{
    public bool Ok => Code == StatusCode.OK;

    public override string ToString() => Ok ? $"OK {Response}" : $"{Code} \"{Detail}\"";
}

/// <summary>
/// One server (ours or a real etcd) with a gRPC channel, started for one test and killed at the end.
/// </summary>
internal sealed class GrpcSide : IAsyncDisposable
{
    private GrpcSide(ServerProcess process)
    {
        Process = process;
        Channel = GrpcChannel.ForAddress(process.ClientUrl, new GrpcChannelOptions { MaxSendMessageSize = null, MaxReceiveMessageSize = 16 * 1024 * 1024 });
        Kv = new KV.KVClient(Channel);
    }

    public ServerProcess Process { get; }

    public GrpcChannel Channel { get; }

    public KV.KVClient Kv { get; }

    public string Name => Process.Kind;

    public static async Task<GrpcSide> StartOursAsync(CancellationToken ct) =>
        new(await CoordinationProcess.StartNewAsync(ct).ConfigureAwait(false));

    public static async Task<GrpcSide> StartEtcdAsync(CancellationToken ct) =>
        new(await EtcdProcess.StartNewAsync(ct).ConfigureAwait(false));

    /// <summary>Starts ours and a real etcd side by side.</summary>
    public static async Task<(GrpcSide Ours, GrpcSide Etcd)> StartPairAsync(CancellationToken ct)
    {
        var ours = StartOursAsync(ct);
        var etcd = StartEtcdAsync(ct);
        try
        {
            await Task.WhenAll(ours, etcd).ConfigureAwait(false);
        }
        catch
        {
            if (ours.IsCompletedSuccessfully) await ours.Result.DisposeAsync().ConfigureAwait(false);
            if (etcd.IsCompletedSuccessfully) await etcd.Result.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return (ours.Result, etcd.Result);
    }

    public static CallOptions Options(CancellationToken ct) => new(deadline: DateTime.UtcNow.AddSeconds(15), cancellationToken: ct);

    /// <summary>Runs a call and captures its outcome.</summary>
    public static async Task<CallOutcome> CallAsync<T>(Func<Task<T>> call)
        where T : IMessage
    {
        try
        {
            var response = await call().ConfigureAwait(false);
            return new CallOutcome(StatusCode.OK, "", Normalize(response));
        }
        catch (RpcException e)
        {
            return new CallOutcome(e.StatusCode, e.Status.Detail, null);
        }
    }

    /// <summary>Protobuf JSON of a response without cluster/member ids and raft term, which differ by server.</summary>
    private static string Normalize(IMessage response)
    {
        var copy = response.Descriptor.Parser.ParseFrom(response.ToByteString());
        var header = copy.Descriptor.FindFieldByName("header")?.Accessor.GetValue(copy) as ResponseHeader;
        if (header is not null)
        {
            header.ClusterId = 0;
            header.MemberId = 0;
            header.RaftTerm = 0;
        }

        return JsonFormatter.Default.Format(copy);
    }

    /// <summary>A normal put then get of a fresh key: the server still serves.</summary>
    public async Task AssertServesAsync(CancellationToken ct)
    {
        Assert.True(Process.IsRunning, $"{Name} process is no longer running.\n{Process.Log.Tail()}");
        var key = ByteString.CopyFromUtf8($"alive/{Guid.NewGuid():N}");
        var value = ByteString.CopyFromUtf8("still serving");
        try
        {
            await Kv.PutAsync(new PutRequest { Key = key, Value = value }, Options(ct));
            var get = await Kv.RangeAsync(new RangeRequest { Key = key }, Options(ct));
            Assert.Equal("still serving", Assert.Single(get.Kvs).Value.ToStringUtf8());
        }
        catch (RpcException e)
        {
            Assert.Fail($"{Name} no longer serves a normal put/get: {e.Status}\n{Process.Log.Tail()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await Process.DisposeAsync().ConfigureAwait(false);
    }
}
