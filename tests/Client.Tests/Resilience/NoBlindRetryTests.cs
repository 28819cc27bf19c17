using Coordination.Client.Kv;
using Coordination.Client.Tests.Fixtures;
using Coordination.Compatibility.Tests.Fixtures;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;

namespace Coordination.Client.Tests.Resilience;

/// <summary>
/// A proxy delivers a write to a real etcd and then cuts the connection before the answer comes
/// back. The client must report that the outcome is unknown and must not send the write again;
/// the key's version tells how many times it was applied. A deliberately naive client that retries
/// blindly is the negative control: the same check catches its double write. Runs against a real
/// etcd 3.4 and against our server.
/// </summary>
public abstract class NoBlindRetryTests : IAsyncLifetime
{
    private ServerProcess? _etcd;
    private TcpProxy? _proxy;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ServerProcess Etcd => _etcd!;

    private protected abstract Task<ServerProcess> StartServerAsync();

    private TcpProxy Proxy => _proxy!;

    public async ValueTask InitializeAsync()
    {
        _etcd = await StartServerAsync();
        _proxy = new TcpProxy(_etcd.ClientPort);
    }

    public async ValueTask DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_put_whose_answer_is_lost_is_reported_as_outcome_unknown_and_applied_once()
    {
        await using var viaProxy = CoordinationClient.Create(new CoordinationClientOptions { Endpoints = [Proxy.Url], MaxRetries = 5 });
        await using var direct = CoordinationClient.Create(Etcd.ClientUrl);
        var before = await WarmUpAsync(viaProxy);

        Proxy.DropAtNextAnswer();
        var e = await Assert.ThrowsAsync<EtcdOutcomeUnknownException>(() => viaProxy.Kv.PutAsync("/nbr/put", "once", cancellationToken: Ct));
        await Proxy.Dropped.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        var kv = await direct.Kv.GetAsync("/nbr/put", cancellationToken: Ct);
        Assert.NotNull(kv);
        Assert.Equal(1, kv.Version);
        Assert.Equal(before + 1, kv.ModRevision);
        Assert.Equal(before + 1, await RevisionAsync(direct));
        Assert.Contains("not retried", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_txn_whose_answer_is_lost_is_reported_as_outcome_unknown_and_applied_once()
    {
        await using var viaProxy = CoordinationClient.Create(new CoordinationClientOptions { Endpoints = [Proxy.Url], MaxRetries = 5 });
        await using var direct = CoordinationClient.Create(Etcd.ClientUrl);
        var before = await WarmUpAsync(viaProxy);

        Proxy.DropAtNextAnswer();
        await Assert.ThrowsAsync<EtcdOutcomeUnknownException>(() =>
            viaProxy.Kv.Txn().Then(TxnOp.Put("/nbr/txn", "once")).CommitAsync(Ct));
        await Proxy.Dropped.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(1, (await direct.Kv.GetAsync("/nbr/txn", cancellationToken: Ct))?.Version);
        Assert.Equal(before + 1, await RevisionAsync(direct));
    }

    [Fact]
    public async Task A_put_past_its_deadline_is_outcome_unknown_and_not_repeated()
    {
        await using var viaProxy = CoordinationClient.Create(new CoordinationClientOptions
        {
            Endpoints = [Proxy.Url],
            CallTimeout = TimeSpan.FromMilliseconds(500),
            MaxRetries = 5,
        });
        await using var direct = CoordinationClient.Create(Etcd.ClientUrl);
        var before = await WarmUpAsync(viaProxy);
        Proxy.HoldBeforeDrop = TimeSpan.FromSeconds(5); // the answer is held far past the deadline

        Proxy.DropAtNextAnswer();
        var started = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<EtcdOutcomeUnknownException>(() => viaProxy.Kv.PutAsync("/nbr/deadline", "once", cancellationToken: Ct));

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(4), $"the deadline did not cut the call short ({started.Elapsed})");
        Assert.Equal(Grpc.Core.StatusCode.DeadlineExceeded, ((EtcdException)e.InnerException!).StatusCode);
        Assert.Equal(1, (await direct.Kv.GetAsync("/nbr/deadline", cancellationToken: Ct))?.Version);
        Assert.Equal(before + 1, await RevisionAsync(direct));
    }

    [Fact]
    public async Task A_call_cancelled_by_the_caller_ends_with_operation_canceled()
    {
        await using var viaProxy = CoordinationClient.Create(new CoordinationClientOptions { Endpoints = [Proxy.Url] });
        await WarmUpAsync(viaProxy);
        Proxy.HoldBeforeDrop = TimeSpan.FromSeconds(5);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        Proxy.DropAtNextAnswer();
        cancel.CancelAfter(TimeSpan.FromMilliseconds(300));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => viaProxy.Kv.GetAsync("/nbr/cancelled", cancellationToken: cancel.Token));
    }

    [Fact]
    public async Task A_read_whose_answer_is_lost_is_retried_transparently()
    {
        await using var viaProxy = CoordinationClient.Create(new CoordinationClientOptions { Endpoints = [Proxy.Url], MaxRetries = 5 });
        await viaProxy.Kv.PutAsync("/nbr/read", "value", cancellationToken: Ct);
        await WarmUpAsync(viaProxy);

        Proxy.DropAtNextAnswer();
        Assert.Equal("value", await viaProxy.Kv.GetStringAsync("/nbr/read", Ct));
        Assert.True(Proxy.Dropped.Task.IsCompleted, "the proxy did not cut the connection; the test proved nothing");
    }

    [Fact]
    public async Task Negative_control_a_blindly_retrying_client_applies_the_put_twice()
    {
        using var channel = GrpcChannel.ForAddress(Proxy.Url);
        var kv = new KV.KVClient(channel);
        await using var direct = CoordinationClient.Create(Etcd.ClientUrl);
        await kv.RangeAsync(new RangeRequest { Key = ByteString.CopyFromUtf8("warm") }, cancellationToken: Ct);
        await Task.Delay(200, Ct);

        Proxy.DropAtNextAnswer();
        var request = new PutRequest { Key = ByteString.CopyFromUtf8("/nbr/naive"), Value = ByteString.CopyFromUtf8("twice?") };
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                await kv.PutAsync(request, cancellationToken: Ct);
                break;
            }
            catch (RpcException)
            {
                // the naive policy: any failure, send it again
            }
        }

        Assert.Equal(2, (await direct.Kv.GetAsync("/nbr/naive", cancellationToken: Ct))?.Version);
    }

    [Fact]
    public async Task Writes_to_a_refused_endpoint_were_never_sent_and_go_to_another_once()
    {
        var dead = $"http://127.0.0.1:{FreePorts.Next()}";
        var logs = new RecordingLoggerFactory();
        await using var client = CoordinationClient.Create(
            new CoordinationClientOptions { Endpoints = [dead, Etcd.ClientUrl], EndpointCooldown = TimeSpan.FromMilliseconds(1) }, logs);

        for (var i = 0; i < 6; i++)
        {
            await client.Kv.PutAsync($"/nbr/refused/{i}", "v", cancellationToken: Ct);
        }

        var written = await client.Kv.GetPrefixAsync("/nbr/refused/", cancellationToken: Ct);
        Assert.Equal(6, written.Count);
        Assert.All(written.Kvs, kv => Assert.Equal(1, kv.Version));
        Assert.Contains(logs.Messages, m => m.StartsWith("KV/Put", StringComparison.Ordinal) && m.Contains(dead, StringComparison.Ordinal) && m.EndsWith("retrying", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task With_every_endpoint_refusing_a_write_fails_as_unavailable_not_as_unknown(int maxRetries)
    {
        await using var client = CoordinationClient.Create(new CoordinationClientOptions
        {
            Endpoints = [$"http://127.0.0.1:{FreePorts.Next()}"],
            MaxRetries = maxRetries,
        });

        await Assert.ThrowsAsync<EtcdEndpointUnavailableException>(() => client.Kv.PutAsync("/nbr/nowhere", "v", cancellationToken: Ct));
    }

    private static async Task<long> WarmUpAsync(ICoordinationClient client)
    {
        var revision = (await client.Kv.GetPrefixAsync("/nbr/warm", cancellationToken: Ct)).Header.Revision;
        await Task.Delay(200, Ct); // let any trailing frames of the warm-up pass before arming the proxy
        return revision;
    }

    private static async Task<long> RevisionAsync(ICoordinationClient client) =>
        (await client.Kv.GetPrefixAsync("/nbr/none", cancellationToken: Ct)).Header.Revision;
}

public sealed class NoBlindRetryOnEtcd : NoBlindRetryTests
{
    private protected override async Task<ServerProcess> StartServerAsync() => await EtcdProcess.StartNewAsync(TestContext.Current.CancellationToken);
}

public sealed class NoBlindRetryOnCoordination : NoBlindRetryTests
{
    private protected override async Task<ServerProcess> StartServerAsync() => await CoordinationProcess.StartNewAsync(TestContext.Current.CancellationToken);
}
