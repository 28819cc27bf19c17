using System.Buffers;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Coordination.Server.Hosting;

/// <summary>
/// Lets one cleartext port serve both gRPC (HTTP/2 with prior knowledge, as etcd clients speak it)
/// and plain HTTP/1.1 (<c>/health</c>, <c>/version</c>), as etcd does with its connection multiplexer.
/// Kestrel picks HTTP/1.1 for cleartext connections that allow both; this middleware peeks at the
/// first bytes and, when they are the HTTP/2 connection preface, tells Kestrel the connection
/// negotiated "h2". Nothing is consumed from the connection. HTTP/2 connections then read their input
/// through <see cref="Http2AuthorityRewriter"/>.
/// </summary>
internal static class Http2PriorKnowledge
{
    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>The connection middleware.</summary>
    public static Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => async connection =>
    {
        bool prefaced;
        try
        {
            prefaced = await StartsWithPrefaceAsync(connection).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (connection.ConnectionClosed.IsCancellationRequested)
        {
            // Closed before it sent enough to tell (a port probe, say): nothing to serve, and no error
            // for Kestrel to log.
            return;
        }
        if (prefaced)
        {
            var h2 = new NegotiatedH2();
            connection.Features.Set<ITlsConnectionFeature>(h2);
            connection.Features.Set<ITlsApplicationProtocolFeature>(h2);

            // Let Kestrel accept the URL-shaped :authority some etcd clients send (see Http2AuthorityRewriter).
            var rewriter = Http2AuthorityRewriter.Attach(connection);
            await using (rewriter.ConfigureAwait(false))
            {
                await next(connection).ConfigureAwait(false);
            }
            return;
        }
        await next(connection).ConfigureAwait(false);
    };

    private static async Task<bool> StartsWithPrefaceAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync(connection.ConnectionClosed).ConfigureAwait(false);
            var buffer = result.Buffer;
            var verdict = Compare(buffer);
            if (verdict is not null || result.IsCompleted || result.IsCanceled)
            {
                input.AdvanceTo(buffer.Start);
                return verdict == true;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>true: the preface; false: something else; null: too few bytes to tell.</summary>
    private static bool? Compare(ReadOnlySequence<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, Preface.Length);
        Span<byte> head = stackalloc byte[24];
        buffer.Slice(0, n).CopyTo(head);
        if (!head[..n].SequenceEqual(Preface[..n])) return false;
        return n == Preface.Length ? true : null;
    }

    private sealed class NegotiatedH2 : ITlsConnectionFeature, ITlsApplicationProtocolFeature
    {
        public X509Certificate2? ClientCertificate { get; set; }

        public ReadOnlyMemory<byte> ApplicationProtocol => "h2"u8.ToArray();

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) =>
            Task.FromResult<X509Certificate2?>(null);
    }
}
