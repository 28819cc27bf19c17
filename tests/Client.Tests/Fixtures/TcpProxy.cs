using System.Net;
using System.Net.Sockets;

namespace Coordination.Client.Tests.Fixtures;

/// <summary>
/// A loopback TCP proxy in front of one server, to break connections at chosen moments:
/// <see cref="DropAll"/> cuts every connection; <see cref="DropAtNextAnswer"/> lets the next
/// request through, holds back whatever the server sends next, waits (so the server finishes
/// applying the request), and then cuts the connection: the client's request was delivered but
/// its answer never arrives.
/// </summary>
internal sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TcpClient Client, TcpClient Server)> _pairs = [];
    private readonly Lock _gate = new();
    private readonly Task _accept;
    private int _dropAtNextAnswer;
    private int _connections;

    public TcpProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener.Start();
        _accept = Task.Run(AcceptAsync);
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>How long the held-back answer waits before the cut.</summary>
    public TimeSpan HoldBeforeDrop { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Completed when an armed drop has happened.</summary>
    public TaskCompletionSource Dropped { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void DropAtNextAnswer()
    {
        Dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _dropAtNextAnswer, 1);
    }

    public void DropAll()
    {
        List<(TcpClient, TcpClient)> pairs;
        lock (_gate)
        {
            pairs = [.. _pairs];
            _pairs.Clear();
        }

        foreach (var (client, server) in pairs)
        {
            Close(client, server);
        }
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var server = new TcpClient();
                try
                {
                    await server.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
                }
                catch (SocketException)
                {
                    Close(client, server);
                    continue;
                }

                Interlocked.Increment(ref _connections);
                lock (_gate)
                {
                    _pairs.Add((client, server));
                }

                _ = Task.Run(() => PumpAsync(client, server, fromServer: false));
                _ = Task.Run(() => PumpAsync(client, server, fromServer: true));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task PumpAsync(TcpClient client, TcpClient server, bool fromServer)
    {
        var source = (fromServer ? server : client).GetStream();
        var sink = (fromServer ? client : server).GetStream();
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await source.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                if (fromServer && Interlocked.Exchange(ref _dropAtNextAnswer, 0) == 1)
                {
                    await Task.Delay(HoldBeforeDrop, _stop.Token);
                    Close(client, server);
                    Dropped.TrySetResult();
                    return;
                }

                await sink.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }

        Close(client, server);
    }

    private void Close(TcpClient client, TcpClient server)
    {
        lock (_gate)
        {
            _pairs.Remove((client, server));
        }

        // A pump and DropAll can close the same pair at once: a disposed TcpClient has no socket
        // (null), and one disposed after this read throws ObjectDisposedException below.
        var socket = client.Client;
        try
        {
            if (socket is not null) socket.LingerState = new LingerOption(true, 0); // RST, as a crashed peer
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
        }

        client.Dispose();
        server.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        DropAll();
        try
        {
            await _accept;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}
