using System.Runtime.InteropServices;

namespace OrleansRooms.LoadGenerator;

/// <summary>
/// Reads every client's socket from one thread over an epoll set of its own: one epoll_wait returns many ready
/// sockets and each costs one non-blocking recv, with no thread-pool hop per message. With .NET's async sockets the
/// load generator needed about as much CPU per delivery as the server it measured, which on 2 cores hid the servers'
/// differences behind the generator's own ceiling.
/// </summary>
/// <remarks>
/// The sockets must never run a .NET async operation: that registers them with the runtime's own epoll as well, whose
/// thread would then wake for every message too. <see cref="WsClient"/> therefore handshakes with blocking calls.
/// </remarks>
internal sealed partial class EpollReceiver
{
    private const int EpollCtlAdd = 1;
    private const int EpollCtlDel = 2;
    private const uint EpollIn = 0x001;
    private const uint EpollRdHup = 0x2000;
    private const int MsgDontWait = 0x40;
    private const int EAgain = 11;
    private const int EIntr = 4;

    private readonly int _epoll;
    private readonly Lock _lock = new();
    private WsClient?[] _clients = new WsClient?[1024];
    private int _count;

    private EpollReceiver(int index)
    {
        _epoll = EpollCreate1(0);
        if (_epoll < 0)
        {
            throw new InvalidOperationException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        }

        new Thread(Loop) { IsBackground = true, Name = $"epoll receiver {index}" }.Start();
    }

    /// <summary>The receivers clients are spread over; one is enough for the rates a 2-core machine reaches.</summary>
    private static EpollReceiver[] All { get; set; } = [];

    /// <summary>Starts the receiver threads; called once, before the first connection.</summary>
    public static void Configure(int count) => All = [.. Enumerable.Range(0, Math.Max(count, 1)).Select(i => new EpollReceiver(i))];

    public static EpollReceiver For(int index) => All[index % All.Length];

    public void Add(WsClient client)
    {
        int slot;
        lock (_lock)
        {
            slot = _count++;
            if (slot == _clients.Length)
            {
                var grown = new WsClient?[slot * 2];
                _clients.CopyTo(grown, 0);
                Volatile.Write(ref _clients, grown);
            }

            Volatile.Write(ref _clients[slot], client);
        }

        if (Control(EpollCtlAdd, client.Fd, EpollIn | EpollRdHup, (ulong)slot) != 0)
        {
            throw new InvalidOperationException($"epoll_ctl(ADD) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public void Remove(WsClient client)
    {
        _ = Control(EpollCtlDel, client.Fd, 0, 0); // may already be gone with its closed descriptor
    }

    /// <summary>One non-blocking recv into <paramref name="buffer"/>: bytes read, 0 at end of stream, -1 when nothing waits.</summary>
    public static unsafe int Receive(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            while (true)
            {
                var n = (int)Recv(fd, p, buffer.Length, MsgDontWait);
                if (n >= 0)
                {
                    return n;
                }

                var errno = Marshal.GetLastPInvokeError();
                if (errno == EIntr)
                {
                    continue;
                }

                return errno == EAgain ? -1 : 0; // a reset or any other error ends the connection like a close
            }
        }
    }

    private unsafe void Loop()
    {
        const int max = 512;
        var events = stackalloc byte[max * EventSize];
        while (true)
        {
            var n = EpollWait(_epoll, events, max, 200);
            if (n < 0)
            {
                if (Marshal.GetLastPInvokeError() == EIntr)
                {
                    continue;
                }

                throw new InvalidOperationException($"epoll_wait failed: errno {Marshal.GetLastPInvokeError()}");
            }

            var clients = Volatile.Read(ref _clients);
            for (var i = 0; i < n; i++)
            {
                var slot = (int)*(ulong*)(events + (i * EventSize) + DataOffset);
                if (clients[slot] is { } client && !client.OnReadable())
                {
                    Remove(client);
                }
            }
        }
    }

    // struct epoll_event { uint32 events; uint64 data; } is packed to 12 bytes on x86-64 and padded to 16 elsewhere.
    private static int EventSize => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    private static int DataOffset => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    private unsafe int Control(int op, int fd, uint events, ulong data)
    {
        var e = stackalloc byte[16];
        *(uint*)e = events;
        *(ulong*)(e + DataOffset) = data;
        return EpollCtl(_epoll, op, fd, e);
    }

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static unsafe partial int EpollCtl(int epfd, int op, int fd, byte* e);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static unsafe partial int EpollWait(int epfd, byte* events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    private static unsafe partial nint Recv(int fd, byte* buffer, nint length, int flags);
}
