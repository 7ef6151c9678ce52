using System.Net;
using System.Net.Sockets;
using NetSocket = System.Net.Sockets.Socket;

namespace OrleansRooms.TestCluster;

/// <summary>
/// A TCP relay on a loopback port in front of a gateway, as a load balancer or a network path: clients connect to
/// <see cref="Url"/>, and the test cuts every connection (a reset, as a dropped network does), refuses new ones for a
/// while, and points the relay at another gateway (the load balancer sending the reconnecting client elsewhere).
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly List<NetSocket> _open = [];
    private readonly Task _accepting;
    private Uri _target;
    private bool _refusing;

    public TcpRelay(Uri target)
    {
        _target = target;
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = AcceptAsync();
    }

    /// <summary>Where clients connect.</summary>
    public Uri Url { get; }

    /// <summary>How many connections were accepted and relayed.</summary>
    public int Relayed { get; private set; }

    /// <summary>Resets every open connection; with <paramref name="refuse"/>, new ones are reset too until <see cref="Resume"/>.</summary>
    public void Cut(bool refuse = true)
    {
        List<NetSocket> open;
        lock (_lock)
        {
            _refusing = refuse;
            open = [.. _open];
            _open.Clear();
        }

        foreach (var socket in open)
        {
            Reset(socket);
        }
    }

    /// <summary>Relays new connections again, to <paramref name="target"/> if given.</summary>
    public void Resume(Uri? target = null)
    {
        lock (_lock)
        {
            _target = target ?? _target;
            _refusing = false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Cut();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptSocketAsync(_stop.Token);
            Uri target;
            lock (_lock)
            {
                if (_refusing)
                {
                    Reset(client);
                    continue;
                }

                target = _target;
            }

            _ = RelayAsync(client, target);
        }
    }

    private async Task RelayAsync(NetSocket client, Uri target)
    {
        var server = new NetSocket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await server.ConnectAsync(IPAddress.Loopback, target.Port, _stop.Token);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            Reset(client);
            server.Dispose();
            return;
        }

        lock (_lock)
        {
            if (_refusing)
            {
                Reset(client);
                Reset(server);
                return;
            }

            _open.Add(client);
            _open.Add(server);
            Relayed++;
        }

        client.NoDelay = true;
        await Task.WhenAny(PumpAsync(client, server), PumpAsync(server, client));
        lock (_lock)
        {
            _open.Remove(client);
            _open.Remove(server);
        }

        Reset(client);
        Reset(server);
    }

    private async Task PumpAsync(NetSocket from, NetSocket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    // Closes with a reset, not a goodbye: the peer learns of it as of a dropped network.
    private static void Reset(NetSocket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
    }
}
