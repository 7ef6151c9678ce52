using System.Text;
using Microsoft.Extensions.Primitives;

namespace OrleansRooms.Engine;

/// <summary>
/// Picks the first <c>permessage-deflate</c> offer of a client's <c>Sec-WebSocket-Extensions</c> that this server can
/// honour (RFC 7692 §5 and §7.1) and writes the answer. The server always answers <c>server_no_context_takeover</c> so
/// that a compressed packet depends on nothing sent before it and one compressed frame serves every recipient of a
/// broadcast. An offer limiting the server's window (<c>server_max_window_bits</c> below 15) is declined: the deflater
/// of System.IO.Compression always uses a 32 KB window. Malformed offers are declined, never failed: the WebSocket
/// then runs without compression.
/// </summary>
internal static class PerMessageDeflateNegotiation
{
    /// <summary>The answer to send and whether the client promised to compress each message on its own, or false.</summary>
    public static bool TryAccept(StringValues offers, PerMessageDeflateOptions options, out string response, out bool clientNoContextTakeover)
    {
        foreach (var header in offers)
        {
            if (header is null)
            {
                continue;
            }

            foreach (var offer in header.Split(','))
            {
                if (TryAcceptOffer(offer, options, out response, out clientNoContextTakeover))
                {
                    return true;
                }
            }
        }

        response = string.Empty;
        clientNoContextTakeover = false;
        return false;
    }

    private static bool TryAcceptOffer(string offer, PerMessageDeflateOptions options, out string response, out bool clientNoContextTakeover)
    {
        response = string.Empty;
        clientNoContextTakeover = false;
        var parts = offer.Split(';');
        if (!parts[0].Trim().Equals("permessage-deflate", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        bool serverNoContext = false, clientNoContext = false, serverBits = false, clientBits = false;
        for (var i = 1; i < parts.Length; i++)
        {
            var parameter = parts[i];
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            var name = (equals < 0 ? parameter : parameter[..equals]).Trim();
            var value = equals < 0 ? null : Unquote(parameter[(equals + 1)..].Trim());
            switch (name.ToLowerInvariant())
            {
                // Each parameter at most once (§7.1); the flags take no value.
                case "server_no_context_takeover" when !serverNoContext && value is null:
                    serverNoContext = true;
                    break;
                case "client_no_context_takeover" when !clientNoContext && value is null:
                    clientNoContext = true;
                    break;
                case "server_max_window_bits" when !serverBits && value == "15":
                    serverBits = true;
                    break;
                case "client_max_window_bits" when !clientBits && (value is null || IsWindowBits(value)):
                    // The client can limit its window if asked; the inflater takes any window, so it is never asked.
                    clientBits = true;
                    break;
                default:
                    return false;
            }
        }

        clientNoContextTakeover = options.ClientNoContextTakeover || clientNoContext;
        var answer = new StringBuilder("permessage-deflate; server_no_context_takeover");
        if (clientNoContextTakeover)
        {
            answer.Append("; client_no_context_takeover");
        }

        if (serverBits)
        {
            // An offer with server_max_window_bits is accepted only by answering it (§7.1.2.1).
            answer.Append("; server_max_window_bits=15");
        }

        response = answer.ToString();
        return true;
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;

    // 8 to 15, without leading zeros (§7.1.2.1).
    private static bool IsWindowBits(string value) =>
        value.Length is 1 or 2 && value[0] != '0' && int.TryParse(value, out var bits) && bits is >= 8 and <= 15;
}
