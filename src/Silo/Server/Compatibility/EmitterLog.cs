using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace OrleansRooms.Silo.Compatibility;

internal static partial class EmitterLog
{
    [LoggerMessage(201, LogLevel.Information, "Listening to the Socket.IO emitter on {Redis}, key '{Key}'.")]
    public static partial void Listening(ILogger logger, string redis, string key);

    [LoggerMessage(202, LogLevel.Information, "Listening to the Socket.IO emitter again: the Redis connection was restored and the channels subscribed.")]
    public static partial void ListeningAgain(ILogger logger);

    [LoggerMessage(203, LogLevel.Warning, "Lost the Redis connection of the Socket.IO emitter channels ({FailureType}); it reconnects and subscribes again by itself.")]
    public static partial void ConnectionLost(ILogger logger, string failureType, Exception? exception);

    [LoggerMessage(204, LogLevel.Warning, "Could not subscribe to the Socket.IO emitter channels yet (Redis does not answer); retrying.")]
    public static partial void SubscribeFailed(ILogger logger, Exception? exception);

    [LoggerMessage(205, LogLevel.Warning, "Dropped a message on emitter channel {Channel} ({Length} bytes): {Reason}.")]
    public static partial void Rejected(ILogger logger, string channel, int length, string reason);

    [LoggerMessage(206, LogLevel.Error, "The gateway failed on a {MessageType} message from emitter channel {Channel}.")]
    public static partial void Failed(ILogger logger, string messageType, string channel, Exception exception);

    [LoggerMessage(207, LogLevel.Warning, "More than {MaxBacklog} emitter messages are waiting on {Pattern}: dropping them unread until the gateway catches up.")]
    public static partial void BacklogOverflow(ILogger logger, int maxBacklog, string pattern);

    [LoggerMessage(208, LogLevel.Information, "The emitter backlog on {Pattern} is down again; {Dropped} messages were dropped.")]
    public static partial void BacklogRecovered(ILogger logger, string pattern, long dropped);

    [LoggerMessage(209, LogLevel.Debug, "Not listening to the Socket.IO emitter: {Reason}.")]
    public static partial void Off(ILogger logger, string reason);

    private const int MaxTextLength = 200;

    /// <summary>
    /// Text from the outside (channel names, reasons quoting input) made safe for a log line: control and format
    /// characters escaped as <c>\uXXXX</c>, so a published newline cannot forge a log entry, and at most 200 characters.
    /// </summary>
    public static string Escape(string text)
    {
        var needed = false;
        foreach (var c in text)
        {
            if (NeedsEscape(c))
            {
                needed = true;
                break;
            }
        }

        if (!needed && text.Length <= MaxTextLength)
        {
            return text;
        }

        var builder = new StringBuilder(Math.Min(text.Length, MaxTextLength) + 16);
        foreach (var c in text)
        {
            if (builder.Length >= MaxTextLength)
            {
                builder.Append(CultureInfo.InvariantCulture, $"...({text.Length} characters)");
                break;
            }

            if (NeedsEscape(c))
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static bool NeedsEscape(char c) =>
        char.IsControl(c) || char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
}
