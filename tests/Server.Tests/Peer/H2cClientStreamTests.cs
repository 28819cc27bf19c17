using System.Buffers.Binary;
using System.Net;
using System.Threading.Channels;
using Coordination.Server.Peer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Server.Tests.Peer;

/// <summary>Our h2c client stream against Kestrel: what it writes arrives as gRPC messages, in order.</summary>
public sealed class H2cClientStreamTests : IAsyncLifetime
{
    private const string Path = "/test.Peer/Send";
    private readonly Channel<byte[]> _received = Channel.CreateUnbounded<byte[]>();
    private readonly TaskCompletionSource<IHeaderDictionary> _headers = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Set by a test that wants the server to hold off reading request bodies until it completes.
    private TaskCompletionSource? _holdReads;
    private WebApplication _app = null!;
    private Uri _url = null!;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        _app = builder.Build();
        _app.MapPost(Path, async context =>
        {
            _headers.TrySetResult(context.Request.Headers);
            // The gRPC framing: a compressed flag, a big-endian length, the message.
            var body = context.Request.Body;
            if (_holdReads is { } hold) await hold.Task;
            var prefix = new byte[5];
            while (await ReadExactlyOrEndAsync(body, prefix))
            {
                var message = new byte[BinaryPrimitives.ReadUInt32BigEndian(prefix.AsSpan(1))];
                await body.ReadExactlyAsync(message);
                await _received.Writer.WriteAsync(message);
            }
        });
        await _app.StartAsync(TestContext.Current.CancellationToken);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _url = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Messages_arrive_in_order_including_one_larger_than_the_flow_control_windows()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var stream = await H2cClientStream.OpenAsync(_url, Path, TimeProvider.System, TimeSpan.FromSeconds(5), ct);
        var sent = new List<byte[]>();
        for (var i = 0; i < 200; i++) sent.Add(Payload(i, 100 + i));
        sent.Add(Payload(200, 3 * 1024 * 1024)); // beyond Kestrel's 1 MiB connection and 768 KiB stream windows
        for (var i = 201; i < 220; i++) sent.Add(Payload(i, 40_000)); // each spans several DATA frames
        foreach (var message in sent) Assert.True(stream.Write(message));

        var headers = await _headers.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
        Assert.Equal("application/grpc", headers.ContentType);
        for (var i = 0; i < sent.Count; i++)
        {
            var received = await _received.Reader.ReadAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct);
            Assert.Equal(sent[i], received);
        }
        Assert.False(stream.Completion.IsCompleted);
        Assert.Equal(0, stream.Unsent);
    }

    [Fact]
    public async Task A_writer_waiting_for_the_unsent_bytes_to_shrink_resumes_when_the_server_reads()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var stream = await OpenWhileTheServerHoldsReadsAsync(ct);
        var message = Payload(1, 3 * 1024 * 1024);
        Assert.True(stream.Write(message));
        Assert.True(stream.WhenUnsentAtMostAsync(long.MaxValue).IsCompletedSuccessfully);

        // The server does not read, so no more than Kestrel's 1 MiB connection window can leave.
        var drained = stream.WhenUnsentAtMostAsync(1024 * 1024);
        Assert.True(stream.Unsent > 1024 * 1024);
        Assert.False(drained.IsCompleted);

        _holdReads!.SetResult();
        await drained.WaitAsync(TimeSpan.FromSeconds(10), ct);
        Assert.Equal(message, await _received.Reader.ReadAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct));
    }

    [Fact]
    public async Task A_writer_waiting_for_the_unsent_bytes_to_shrink_fails_when_the_call_ends()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var stream = await OpenWhileTheServerHoldsReadsAsync(ct);
        Assert.True(stream.Write(Payload(2, 3 * 1024 * 1024)));
        var drained = stream.WhenUnsentAtMostAsync(0);
        Assert.False(drained.IsCompleted);

        await stream.DisposeAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => drained.WaitAsync(TimeSpan.FromSeconds(10), ct));
        _holdReads!.SetResult();
    }

    [Fact]
    public async Task The_call_ends_when_the_server_stops_and_writes_are_refused_after()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var stream = await H2cClientStream.OpenAsync(_url, Path, TimeProvider.System, TimeSpan.FromSeconds(5), ct);
        Assert.True(stream.Write([1, 2, 3]));
        Assert.Equal([1, 2, 3], await _received.Reader.ReadAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), ct));

        await _app.StopAsync(ct);

        await Assert.ThrowsAnyAsync<Exception>(() => stream.Completion.WaitAsync(TimeSpan.FromSeconds(10), ct));
        Assert.False(stream.Write([4]));
    }

    [Fact]
    public async Task Connecting_to_a_port_nobody_listens_on_fails()
    {
        var ct = TestContext.Current.CancellationToken;
        var port = _url.Port;
        await _app.StopAsync(ct);
        await Assert.ThrowsAnyAsync<Exception>(() =>
            H2cClientStream.OpenAsync(new Uri($"http://127.0.0.1:{port}"), Path, TimeProvider.System, TimeSpan.FromSeconds(2), ct));
    }

    private Task<H2cClientStream> OpenWhileTheServerHoldsReadsAsync(CancellationToken ct)
    {
        _holdReads = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return H2cClientStream.OpenAsync(_url, Path, TimeProvider.System, TimeSpan.FromSeconds(5), ct);
    }

    private static byte[] Payload(int seed, int length)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<bool> ReadExactlyOrEndAsync(Stream body, byte[] buffer)
    {
        var read = await body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false);
        return read == buffer.Length;
    }
}
