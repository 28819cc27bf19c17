using System.IO.Pipelines;
using Coordination.Server.Hosting;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Coordination.Server.Tests.Hosting;

/// <summary>The connection middleware that recognises cleartext HTTP/2 by its preface.</summary>
public sealed class Http2PriorKnowledgeTests
{
    [Fact]
    public async Task A_connection_closed_before_it_sends_anything_ends_quietly_and_is_not_served()
    {
        var (connection, closed) = NewConnection();
        var served = false;
        var middleware = Http2PriorKnowledge.Middleware(_ => { served = true; return Task.CompletedTask; });

        var handling = middleware(connection);
        closed.Cancel();

        await handling.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.False(served);
    }

    [Fact]
    public async Task A_connection_that_starts_with_something_else_is_passed_on_as_it_is()
    {
        var (connection, _) = NewConnection();
        string? protocol = "not served";
        var middleware = Http2PriorKnowledge.Middleware(c => { protocol = NegotiatedProtocol(c); return Task.CompletedTask; });

        await connection.Application!.Output.WriteAsync("GET / HTTP/1.1\r\n"u8.ToArray(), TestContext.Current.CancellationToken);
        await middleware(connection).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Null(protocol);
    }

    [Fact]
    public async Task A_connection_that_starts_with_the_preface_is_served_as_negotiated_h2()
    {
        var (connection, _) = NewConnection();
        string? protocol = "not served";
        var middleware = Http2PriorKnowledge.Middleware(c => { protocol = NegotiatedProtocol(c); return Task.CompletedTask; });

        await connection.Application!.Output.WriteAsync(Http2TestSupport.Preface, TestContext.Current.CancellationToken);
        await connection.Application.Output.CompleteAsync();
        await middleware(connection).WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal("h2", protocol);
    }

    private static string? NegotiatedProtocol(ConnectionContext connection) =>
        connection.Features.Get<ITlsApplicationProtocolFeature>() is { } alpn ? System.Text.Encoding.ASCII.GetString(alpn.ApplicationProtocol.Span) : null;

    private static (DefaultConnectionContext Connection, CancellationTokenSource Closed) NewConnection()
    {
        var input = new Pipe();
        var output = new Pipe();
        var closed = new CancellationTokenSource();
        var connection = new DefaultConnectionContext("test",
            transport: new DuplexPipe(input.Reader, output.Writer),
            application: new DuplexPipe(output.Reader, input.Writer))
        {
            ConnectionClosed = closed.Token,
        };
        return (connection, closed);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
