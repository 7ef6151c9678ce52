using System.IO.Compression;

namespace OrleansRooms.Tests.Engine;

/// <summary>RFC 7692 payloads as a test client makes and reads them, with System.IO.Compression.</summary>
internal static class PerMessageDeflateFrames
{
    /// <summary>A payload compressed on its own, without the trailing 0x00 0x00 0xFF 0xFF (§7.2.1).</summary>
    public static byte[] Deflate(ReadOnlySpan<byte> data)
    {
        using var output = new MemoryStream();
        using var deflate = new DeflateStream(output, CompressionLevel.Optimal, leaveOpen: true);
        return Deflate(deflate, output, data);
    }

    /// <summary>The next message of a client that keeps its context (context takeover) in <paramref name="deflate"/>.</summary>
    public static byte[] Deflate(DeflateStream deflate, MemoryStream output, ReadOnlySpan<byte> data)
    {
        output.SetLength(0);
        deflate.Write(data);
        deflate.Flush();
        Assert.Equal([0x00, 0x00, 0xFF, 0xFF], output.ToArray()[^4..]);
        return output.ToArray()[..^4];
    }

    /// <summary>A compressed payload the server sent, inflated on its own (the server promised no context takeover).</summary>
    public static byte[] Inflate(byte[] payload)
    {
        using var input = new MemoryStream([.. payload, 0x00, 0x00, 0xFF, 0xFF]);
        using var inflate = new DeflateStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        inflate.CopyTo(output);
        return output.ToArray();
    }
}
