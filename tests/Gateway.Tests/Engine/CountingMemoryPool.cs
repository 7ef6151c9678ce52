using System.Buffers;

namespace OrleansRooms.Tests.Engine;

/// <summary>A memory pool over <see cref="MemoryPool{T}.Shared"/> that counts the buffers rented and not yet returned.</summary>
internal sealed class CountingMemoryPool : MemoryPool<byte>
{
    private readonly Lock _gate = new();
    private int _rented;
    private int _outstanding;
    private TaskCompletionSource? _allReturned;

    public override int MaxBufferSize => Shared.MaxBufferSize;

    /// <summary>Buffers rented so far.</summary>
    public int Rented
    {
        get
        {
            lock (_gate)
            {
                return _rented;
            }
        }
    }

    /// <summary>Buffers rented and not yet returned.</summary>
    public int Outstanding
    {
        get
        {
            lock (_gate)
            {
                return _outstanding;
            }
        }
    }

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        lock (_gate)
        {
            _rented++;
            _outstanding++;
        }

        return new Owner(this, Shared.Rent(minBufferSize));
    }

    /// <summary>Completes once every buffer rented is back (at once if none is out), or fails after <paramref name="timeout"/>.</summary>
    public Task AllReturnedAsync(TimeSpan timeout)
    {
        lock (_gate)
        {
            if (_outstanding == 0)
            {
                return Task.CompletedTask;
            }

            _allReturned ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _allReturned.Task.WaitAsync(timeout);
        }
    }

    protected override void Dispose(bool disposing)
    {
    }

    private void Return()
    {
        TaskCompletionSource? allReturned = null;
        lock (_gate)
        {
            if (--_outstanding == 0)
            {
                (allReturned, _allReturned) = (_allReturned, null);
            }
        }

        allReturned?.TrySetResult();
    }

    private sealed class Owner(CountingMemoryPool pool, IMemoryOwner<byte> inner) : IMemoryOwner<byte>
    {
        private int _disposed;

        public Memory<byte> Memory => inner.Memory;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                inner.Dispose();
                pool.Return();
            }
        }
    }
}
