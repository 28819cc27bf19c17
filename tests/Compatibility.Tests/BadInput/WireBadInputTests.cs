using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Grpc.Core;

namespace Coordination.Compatibility.Tests.BadInput;

/// <summary>
/// Malformed traffic on the client port: raw garbage, broken HTTP/1.1, truncated or corrupt HTTP/2,
/// gRPC calls to methods that do not exist and undecodable messages. The server must answer or drop
/// the connection, and keep serving normal clients.
/// </summary>
public sealed class WireBadInputTests
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    /// <summary>Opens a connection, sends <paramref name="payload"/>, reads what comes back within a
    /// short time (or until the server closes), then closes.</summary>
    private static async Task<string> SendAsync(int port, byte[] payload, int readMs = 1500)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(payload);
            await stream.FlushAsync();
        }
        catch (IOException)
        {
            return "<reset while sending>";
        }

        var received = new MemoryStream();
        var buffer = new byte[8192];
        using var timeout = new CancellationTokenSource(readMs);
        try
        {
            while (true)
            {
                var n = await stream.ReadAsync(buffer, timeout.Token);
                if (n == 0)
                {
                    return Describe(received, "closed by server");
                }

                received.Write(buffer, 0, n);
            }
        }
        catch (OperationCanceledException)
        {
            return Describe(received, "still open");
        }
        catch (IOException)
        {
            return Describe(received, "reset by server");
        }

        static string Describe(MemoryStream received, string end)
        {
            var bytes = received.ToArray();
            var text = Encoding.Latin1.GetString(bytes, 0, Math.Min(bytes.Length, 120)).ReplaceLineEndings("\\n");
            return $"{bytes.Length} bytes [{text}], {end}";
        }
    }

    private static byte[] Frame(byte type, byte flags, int streamId, byte[] payload, int? declaredLength = null)
    {
        var frame = new byte[9 + payload.Length];
        var length = declaredLength ?? payload.Length;
        frame[0] = (byte)(length >> 16);
        frame[1] = (byte)(length >> 8);
        frame[2] = (byte)length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId & 0x7fffffff);
        payload.CopyTo(frame, 9);
        return frame;
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    [Fact]
    public async Task Garbage_on_the_client_port_does_not_stop_the_server()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var ours = await GrpcSide.StartOursAsync(ct);
        var port = ours.Process.ClientPort;
        var seed = Random.Shared.Next();
        var rng = new Random(seed);
        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"seed {seed}");

        byte[] RandomBytes(int n)
        {
            var bytes = new byte[n];
            rng.NextBytes(bytes);
            return bytes;
        }

        var cases = new List<(string Name, byte[] Payload)>
        {
            ("64 KiB of random bytes", RandomBytes(64 * 1024)),
            ("random bytes after a valid-looking HTTP/1.1 request line", Concat("GET /health HTTP/1.1\r\n"u8.ToArray(), RandomBytes(4096))),
            ("HTTP/1.1 garbage request", "GARBAGE /%%%% HTTP/1.1\r\nHost: \r\n\r\n"u8.ToArray()),
            ("HTTP/1.1 with a 200 KB header", Encoding.ASCII.GetBytes($"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {new string('a', 200_000)}\r\n\r\n")),
            ("HTTP/1.1 broken chunked body", "POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nnot a chunk\r\n"u8.ToArray()),
            ("gRPC over HTTP/1.1", "POST /etcdserverpb.KV/Put HTTP/1.1\r\nHost: x\r\nContent-Type: application/grpc\r\nTE: trailers\r\nContent-Length: 5\r\n\r\n\0\0\0\0\0"u8.ToArray()),
            ("truncated HTTP/2 preface, then close", Preface[..10]),
            ("truncated HTTP/2 preface (all but the last byte), then close", Preface[..^1]),
            ("HTTP/2 preface then random bytes", Concat(Preface, RandomBytes(4096))),
            ("HTTP/2 preface, SETTINGS with a bad length", Concat(Preface, Frame(0x4, 0, 0, RandomBytes(7)))),
            ("HTTP/2 preface, SETTINGS, HEADERS with garbage HPACK", Concat(Preface, Frame(0x4, 0, 0, []), Frame(0x1, 0x4, 1, RandomBytes(200)))),
            ("HTTP/2 preface, SETTINGS, DATA on an idle stream", Concat(Preface, Frame(0x4, 0, 0, []), Frame(0x0, 0x1, 3, RandomBytes(100)))),
            ("HTTP/2 preface, frame declaring 16 MiB but sending 10 bytes", Concat(Preface, Frame(0x4, 0, 0, []), Frame(0x0, 0, 1, RandomBytes(10), declaredLength: 0xFFFFFF))),
            ("HTTP/2 preface, WINDOW_UPDATE of 0 on the connection", Concat(Preface, Frame(0x4, 0, 0, []), Frame(0x8, 0, 0, new byte[4]))),
        };

        foreach (var (name, payload) in cases)
        {
            var answer = await SendAsync(port, payload);
            output?.WriteLine($"{name}: {answer}");
            if (name.StartsWith("HTTP/1.1 garbage", StringComparison.Ordinal))
            {
                Assert.True(answer.Contains("HTTP/1.1 4", StringComparison.Ordinal) || answer.Contains("closed", StringComparison.Ordinal) || answer.Contains("reset", StringComparison.Ordinal),
                    $"a garbage HTTP/1.1 request should get a 4xx or a closed connection, got: {answer}");
            }

            await ours.AssertServesAsync(ct);
        }

        // Connections that stall half-way through the HTTP/2 preface do not block other clients.
        var stalled = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 50; i++)
            {
                var client = new TcpClient();
                stalled.Add(client);
                await client.ConnectAsync("127.0.0.1", port, ct);
                await client.GetStream().WriteAsync(Preface.AsMemory(0, 1 + (i % (Preface.Length - 1))), ct);
            }

            await ours.AssertServesAsync(ct);
        }
        finally
        {
            foreach (var client in stalled)
            {
                client.Dispose();
            }
        }

        await ours.AssertServesAsync(ct);
    }

    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(b => b, b => b);

    private static async Task<CallOutcome> RawCallAsync(GrpcSide side, string service, string method, byte[] body)
    {
        var invoker = side.Channel.CreateCallInvoker();
        var definition = new Method<byte[], byte[]>(MethodType.Unary, service, method, Raw, Raw);
        try
        {
            var reply = await invoker.AsyncUnaryCall(definition, null, GrpcSide.Options(TestContext.Current.CancellationToken), body);
            return new CallOutcome(StatusCode.OK, "", Convert.ToHexString(reply));
        }
        catch (RpcException e)
        {
            return new CallOutcome(e.StatusCode, e.Status.Detail, null);
        }
    }

    private static async Task<(CallOutcome Ours, CallOutcome Etcd)> BothAsync(GrpcSide ours, GrpcSide etcd, string service, string method, byte[] body)
    {
        var oc = await RawCallAsync(ours, service, method, body);
        var ec = await RawCallAsync(etcd, service, method, body);
        TestContext.Current.TestOutputHelper?.WriteLine($"{service}/{method} [{Convert.ToHexString(body)}]:\n  etcd: {ec}\n  ours: {oc}");
        return (oc, ec);
    }

    [Fact]
    public async Task Unknown_grpc_method_or_service_answers_Unimplemented_like_etcd()
    {
        var ct = TestContext.Current.CancellationToken;
        var (ours, etcd) = await GrpcSide.StartPairAsync(ct);
        await using var o = ours;
        await using var e = etcd;

        foreach (var (service, method) in new[] { ("etcdserverpb.KV", "NoSuchMethod"), ("nosuch.Service", "Call"), ("etcdserverpb.Lease", "NoSuchMethod") })
        {
            var (oc, ec) = await BothAsync(ours, etcd, service, method, []);
            Assert.Equal(StatusCode.Unimplemented, ec.Code);
            Assert.True(oc.Code == StatusCode.Unimplemented, $"{service}/{method}: etcd answered {ec}, ours {oc}");
            await ours.AssertServesAsync(ct);
        }

        await etcd.AssertServesAsync(ct);
    }

    /// <summary>gRPC method paths are case-sensitive: etcd answers Unimplemented for /etcdserverpb.kv/Put.</summary>
    [Fact]
    public async Task Grpc_method_path_with_other_letter_case_is_unknown_like_in_etcd()
    {
        var ct = TestContext.Current.CancellationToken;
        var (ours, etcd) = await GrpcSide.StartPairAsync(ct);
        await using var o = ours;
        await using var e = etcd;

        var failures = new List<string>();
        foreach (var (service, method) in new[] { ("etcdserverpb.kv", "Put"), ("etcdserverpb.KV", "put"), ("ETCDSERVERPB.KV", "Range") })
        {
            var (oc, ec) = await BothAsync(ours, etcd, service, method, []);
            Assert.Equal(StatusCode.Unimplemented, ec.Code);
            if (oc.Code != StatusCode.Unimplemented)
            {
                failures.Add($"/{service}/{method}: etcd answered {ec}, ours {oc} (the call reached the real method)");
            }
        }

        await ours.AssertServesAsync(ct);
        await etcd.AssertServesAsync(ct);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>Bytes that are not a valid protobuf message: the server refuses the call and keeps serving
    /// (checked first), with the same status code and message prefix as etcd (checked last).</summary>
    [Fact]
    public async Task Undecodable_request_message_is_refused_with_etcds_status_code()
    {
        var ct = TestContext.Current.CancellationToken;
        var (ours, etcd) = await GrpcSide.StartPairAsync(ct);
        await using var o = ours;
        await using var e = etcd;

        var differences = new List<string>();
        foreach (var (method, body) in new (string, byte[])[]
        {
            ("Put", [0x0A, 0xFF, 0xFF, 0xFF]),  // field 1, length varint truncated
            ("Range", [0x0A, 0x7F, 0x61]),       // field 1, length 127 with one byte present
            ("Txn", [0x0F, 0x01]),               // field 1 with wire type 7
            ("Put", []),                         // valid empty message: the empty-key error
        })
        {
            var (oc, ec) = await BothAsync(ours, etcd, "etcdserverpb.KV", method, body);
            Assert.False(oc.Ok && !ec.Ok, $"{method} [{Convert.ToHexString(body)}]: ours accepted what etcd refused ({ec})");
            await ours.AssertServesAsync(ct);
            if (oc.Code != ec.Code)
            {
                differences.Add($"{method} [{Convert.ToHexString(body)}]: etcd answered {ec}, ours {oc}");
            }

            // The text after the prefix names the decoding error in each protobuf library's words.
            const string prefix = "grpc: error unmarshalling request: ";
            if (ec.Detail.StartsWith(prefix, StringComparison.Ordinal) != oc.Detail.StartsWith(prefix, StringComparison.Ordinal))
            {
                differences.Add($"{method} [{Convert.ToHexString(body)}]: message prefix differs: etcd {ec}, ours {oc}");
            }
        }

        await etcd.AssertServesAsync(ct);
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }
}
