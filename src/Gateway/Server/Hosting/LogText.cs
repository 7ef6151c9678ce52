using System.Buffers;
using System.Globalization;
using System.Text;

namespace OrleansRooms;

/// <summary>
/// Text that comes from outside the server (a namespace, event or room name, a client's name, a reason, a URL) as an
/// argument of a log message. It is written with its control characters escaped, so a client cannot end a log line
/// and forge the next one, or send escape sequences to a terminal; text past <see cref="MaxLength"/> characters is cut.
/// Use it as the parameter type of a <c>[LoggerMessage]</c> method: a string converts implicitly, and the escaping
/// runs only when a message is written (and copies nothing when there is nothing to escape).
/// </summary>
public readonly struct LogText : IEquatable<LogText>
{
    /// <summary>How many characters of the text are written; the rest is replaced by a count.</summary>
    public const int MaxLength = 1024;

    // C0 and C1 controls and DEL (CR, LF, ESC, CSI...), the Unicode line and paragraph separators, the bidirectional
    // controls that reorder what a reader sees, and '\' itself, so an escape in the output always means one was made.
    // Lone surrogates are escaped too (found apart: a surrogate pair is kept).
    private static readonly SearchValues<char> Special = SearchValues.Create(BuildSpecial());

    private readonly string? _value;

    /// <summary>Wraps <paramref name="value"/>; nothing is done until it is written.</summary>
    public LogText(string? value) => _value = value;

    /// <summary>The text as given.</summary>
    public string? Value => _value;

    /// <summary>Wraps a string, so a <c>[LoggerMessage]</c> parameter of this type takes strings.</summary>
    public static implicit operator LogText(string? value) => new(value);

    /// <summary>Wraps a string.</summary>
    public static LogText FromString(string? value) => new(value);

    /// <summary>
    /// <paramref name="text"/> with every control character written as an escape (<c>\r</c>, <c>\n</c>, <c>\t</c>,
    /// <c>\\</c>, else <c>\uXXXX</c>) and cut after <see cref="MaxLength"/> characters. The same instance when
    /// nothing needs changing; <c>(null)</c> for null, as the logging formatter writes it.
    /// </summary>
    public static string Escape(string? text)
    {
        if (text is null)
        {
            return "(null)";
        }

        var first = IndexOfFirstToEscape(text);
        if (first < 0 && text.Length <= MaxLength)
        {
            return text;
        }

        var kept = Math.Min(text.Length, MaxLength);
        var builder = new StringBuilder(kept + 16);
        builder.Append(text, 0, first < 0 ? kept : Math.Min(first, kept));
        for (var i = builder.Length; i < kept; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '\\':
                    builder.Append(@"\\");
                    break;
                case '\n':
                    builder.Append(@"\n");
                    break;
                case '\r':
                    builder.Append(@"\r");
                    break;
                case '\t':
                    builder.Append(@"\t");
                    break;
                case var _ when char.IsHighSurrogate(c) && i + 1 < kept && char.IsLowSurrogate(text[i + 1]):
                    builder.Append(c).Append(text[++i]);
                    break;
                case var _ when char.IsSurrogate(c) || Special.Contains(c):
                    builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        if (text.Length > kept)
        {
            builder.Append(CultureInfo.InvariantCulture, $"…({text.Length - kept} more characters)");
        }

        return builder.ToString();
    }

    /// <summary>The escaped text (see <see cref="Escape"/>).</summary>
    public override string ToString() => Escape(_value);

    /// <inheritdoc />
    public bool Equals(LogText other) => string.Equals(_value, other._value, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is LogText other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _value is null ? 0 : StringComparer.Ordinal.GetHashCode(_value);

    /// <summary>Whether both wrap the same text.</summary>
    public static bool operator ==(LogText left, LogText right) => left.Equals(right);

    /// <summary>Whether they wrap different text.</summary>
    public static bool operator !=(LogText left, LogText right) => !left.Equals(right);

    private static int IndexOfFirstToEscape(string text)
    {
        var span = text.AsSpan();
        var special = span.IndexOfAny(Special);
        var end = special < 0 ? span.Length : special;

        // Surrogate pairs (emoji...) are text to keep; only a lone half needs an escape.
        var position = 0;
        while (position < end)
        {
            var found = span[position..end].IndexOfAnyInRange('\uD800', '\uDFFF');
            if (found < 0)
            {
                break;
            }

            position += found;
            if (!char.IsHighSurrogate(span[position]) || position + 1 >= span.Length || !char.IsLowSurrogate(span[position + 1]))
            {
                return position;
            }

            position += 2;
        }

        return special;
    }

    private static char[] BuildSpecial()
    {
        var chars = new List<char> { '\\', '\u061C', '\u200E', '\u200F', '\u2028', '\u2029' };
        for (var c = '\0'; c <= '\u001F'; c++)
        {
            chars.Add(c);
        }

        for (var c = '\u007F'; c <= '\u009F'; c++)
        {
            chars.Add(c);
        }

        for (var c = '\u202A'; c <= '\u202E'; c++)
        {
            chars.Add(c);
        }

        for (var c = '\u2066'; c <= '\u2069'; c++)
        {
            chars.Add(c);
        }

        return [.. chars];
    }
}
