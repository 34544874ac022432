using System.Globalization;
using Hub.Core.Model;

namespace Hub.Core.Mapping;

/// <summary>
/// The time zone of date values that carry none: a fixed UTC offset (<c>+07:00</c>) or a system time zone
/// (<c>Asia/Ho_Chi_Minh</c>), whose offset is the one in force at the value's wall-clock time.
/// </summary>
internal sealed class ZoneRule
{
    private readonly TimeSpan _fixedOffset;
    private readonly TimeZoneInfo? _zone;

    private ZoneRule(string text, TimeSpan fixedOffset, TimeZoneInfo? zone)
    {
        Text = text;
        _fixedOffset = fixedOffset;
        _zone = zone;
    }

    /// <summary>The zone as written in the definition.</summary>
    public string Text { get; }

    /// <summary>UTC, +00:00.</summary>
    public static ZoneRule Utc { get; } = new("+00:00", TimeSpan.Zero, null);

    /// <summary>Reads <c>+07:00</c>-style offsets (at most ±14:00) and system time zone ids.</summary>
    public static ZoneRule? TryParse(string? text, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "the time zone is empty";
            return null;
        }

        if (text.Length == 6 && text[0] is '+' or '-' && text[3] == ':'
            && char.IsAsciiDigit(text[1]) && char.IsAsciiDigit(text[2]) && char.IsAsciiDigit(text[4]) && char.IsAsciiDigit(text[5]))
        {
            var hours = ((text[1] - '0') * 10) + (text[2] - '0');
            var minutes = ((text[4] - '0') * 10) + (text[5] - '0');
            var offset = new TimeSpan(hours, minutes, 0);
            if (minutes >= 60 || offset > TimeSpan.FromHours(14))
            {
                error = $"time zone '{text}' is not a UTC offset between -14:00 and +14:00";
                return null;
            }

            return new ZoneRule(text, text[0] == '-' ? -offset : offset, null);
        }

        try
        {
            return new ZoneRule(text, TimeSpan.Zero, TimeZoneInfo.FindSystemTimeZoneById(text));
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException or System.Security.SecurityException)
        {
            error = $"time zone '{text}' is neither a UTC offset such as +07:00 nor a known time zone id such as Asia/Ho_Chi_Minh";
            return null;
        }
    }

    /// <summary>The offset from UTC at a wall-clock time in this zone (standard time for ambiguous or skipped times).</summary>
    public TimeSpan OffsetAt(DateTime wallClock) => _zone is null ? _fixedOffset : _zone.GetUtcOffset(DateTime.SpecifyKind(wallClock, DateTimeKind.Unspecified));
}

/// <summary>
/// Reads date values with a list of .NET exact formats (invariant culture), tried in order. A value whose format
/// carries no zone is wall-clock time in the reader's <see cref="ZoneRule"/>; a value with a zone keeps it.
/// </summary>
internal sealed class DateReader
{
    // A sample for checking formats: a day in the past (a format without a date would read today) that is the same
    // day in UTC (standard formats r and u write UTC).
    private static readonly DateTimeOffset Sample = new(2001, 2, 3, 12, 34, 56, 789, TimeSpan.FromHours(7));

    private readonly (string Format, FormatZone Zone)[] _formats;
    private readonly ZoneRule _zone;

    private DateReader((string, FormatZone)[] formats, ZoneRule zone, string formatsText)
    {
        _formats = formats;
        _zone = zone;
        FormatsText = formatsText;
    }

    /// <summary>The formats, for messages.</summary>
    public string FormatsText { get; }

    /// <summary>The zone of values without one.</summary>
    public ZoneRule Zone => _zone;

    /// <summary>The same formats with another zone for values without one.</summary>
    public DateReader WithZone(ZoneRule zone) => new(_formats, zone, FormatsText);

    /// <summary>A reader of the hub's default formats (<see cref="SourceDates"/>: ISO 8601 with or without zone, <c>yyyyMMddHHmmss</c>, <c>yyyy-MM-dd HH:mm:ss</c>).</summary>
    public static DateReader Default(ZoneRule zone) =>
        new([.. SourceDates.AcceptedFormats.Select(f => (f, Classify(f)))], zone, SourceDates.AcceptedFormatsText);

    /// <summary>A reader of the given formats; null with the reasons when a format is not usable.</summary>
    public static DateReader? Create(IReadOnlyList<string> formats, ZoneRule zone, List<string> errors, string where)
    {
        var compiled = new List<(string, FormatZone)>(formats.Count);
        var ok = true;
        for (var i = 0; i < formats.Count; i++)
        {
            var format = formats[i];
            var problem = CheckFormat(format);
            if (problem is not null)
            {
                errors.Add($"{where}[{i}] {problem}");
                ok = false;
                continue;
            }

            compiled.Add((format, Classify(format)));
        }

        return ok ? new DateReader([.. compiled], zone, string.Join(", ", formats)) : null;
    }

    /// <summary>Parses a trimmed, non-empty value. Returns false when no format reads it or the instant is out of range.</summary>
    public bool TryParse(string value, out DateTimeOffset result)
    {
        foreach (var (format, zone) in _formats)
        {
            if (TryParse(value, format, zone, _zone, out result))
            {
                return true;
            }
        }

        result = default;
        return false;
    }

    private static bool TryParse(string value, string format, FormatZone zone, ZoneRule zoneRule, out DateTimeOffset result)
    {
        var culture = CultureInfo.InvariantCulture;
        switch (zone)
        {
            case FormatZone.Offset:
                return DateTimeOffset.TryParseExact(value, format, culture, DateTimeStyles.None, out result);
            case FormatZone.Utc:
                return DateTimeOffset.TryParseExact(value, format, culture, DateTimeStyles.AssumeUniversal, out result);
            case FormatZone.Optional:
                // The value may or may not carry a zone (K, "o"): the kind of the parsed DateTime tells which.
                if (!DateTime.TryParseExact(value, format, culture, DateTimeStyles.RoundtripKind, out var any))
                {
                    result = default;
                    return false;
                }

                if (any.Kind != DateTimeKind.Unspecified)
                {
                    return DateTimeOffset.TryParseExact(value, format, culture, DateTimeStyles.AssumeUniversal, out result);
                }

                return WallClock(any, zoneRule, out result);
            default:
                if (!DateTime.TryParseExact(value, format, culture, DateTimeStyles.None, out var local))
                {
                    result = default;
                    return false;
                }

                return WallClock(local, zoneRule, out result);
        }
    }

    private static bool WallClock(DateTime local, ZoneRule zoneRule, out DateTimeOffset result)
    {
        var offset = zoneRule.OffsetAt(local);
        var utcTicks = local.Ticks - offset.Ticks;
        if (utcTicks < DateTime.MinValue.Ticks || utcTicks > DateTime.MaxValue.Ticks)
        {
            result = default;
            return false;
        }

        result = new DateTimeOffset(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), offset);
        return true;
    }

    /// <summary>
    /// Checks that a format is usable for dates: .NET can write a sample date with it, read the text back, and the
    /// year, month and day survive. Returns what is wrong, or null.
    /// </summary>
    private static string? CheckFormat(string? format)
    {
        if (string.IsNullOrWhiteSpace(format))
        {
            return "is an empty date format";
        }

        string written;
        try
        {
            written = Sample.ToString(format, CultureInfo.InvariantCulture);
        }
        catch (FormatException)
        {
            return $"'{format}' is not a valid .NET date format";
        }

        if (!TryParse(written, format, Classify(format), ZoneRule.Utc, out var back))
        {
            return $"'{format}' cannot read back the dates it writes ('{written}')";
        }

        return back.Year == Sample.Year && back.Month == Sample.Month && back.Day == Sample.Day
            ? null
            : $"'{format}' does not hold a whole date (year, month and day)";
    }

    /// <summary>
    /// Whether values of a format carry a zone: <c>z</c> specifiers give an offset; <c>K</c> and the standard
    /// <c>o</c> an optional one; a literal <c>Z</c> (quoted, escaped or bare) and the standard <c>r</c> and <c>u</c>
    /// mean UTC; anything else has no zone.
    /// </summary>
    internal static FormatZone Classify(string format)
    {
        if (format.Length == 1)
        {
            return format[0] switch
            {
                'o' or 'O' => FormatZone.Optional,
                'r' or 'R' or 'u' => FormatZone.Utc,
                _ => FormatZone.None,
            };
        }

        bool offset = false, optional = false, utc = false;
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            switch (c)
            {
                case '\'' or '"':
                    var end = format.IndexOf(c, i + 1);
                    var literal = end < 0 ? format.AsSpan(i + 1) : format.AsSpan(i + 1, end - i - 1);
                    utc |= literal.Contains('Z');
                    i = end < 0 ? format.Length : end;
                    break;
                case '\\':
                    utc |= i + 1 < format.Length && format[i + 1] == 'Z';
                    i++;
                    break;
                case 'z':
                    offset = true;
                    break;
                case 'K':
                    optional = true;
                    break;
                case 'Z':
                    utc = true;
                    break;
                default:
                    break;
            }
        }

        return offset ? FormatZone.Offset : optional ? FormatZone.Optional : utc ? FormatZone.Utc : FormatZone.None;
    }
}

/// <summary>Whether the values of a date format carry a zone.</summary>
internal enum FormatZone
{
    /// <summary>No zone: wall-clock time in the reader's zone.</summary>
    None,

    /// <summary>A numeric offset (<c>z</c>, <c>zz</c>, <c>zzz</c>).</summary>
    Offset,

    /// <summary>An offset, <c>Z</c> or nothing (<c>K</c>, standard <c>o</c>).</summary>
    Optional,

    /// <summary>Always UTC (a literal <c>Z</c>, standard <c>r</c> and <c>u</c>).</summary>
    Utc,
}
