using System.Globalization;
using System.Text.RegularExpressions;

namespace Hub.Connectors.BuiltIn.RestPull;

/// <summary>Parsing and formatting of a source's date-times, in the source's own formats and zone.</summary>
internal static partial class SourceTime
{
    /// <summary>
    /// ISO 8601 as sources write it: with or without fraction, with <c>Z</c>, <c>+07:00</c>, <c>+0700</c>, <c>+07</c>
    /// or no offset at all (then the configured zone applies), with <c>T</c> or a space between date and time.
    /// </summary>
    private static readonly string[] IsoFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzz",
        "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd' 'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd' 'HH:mm:ss.FFFFFFFzz",
    ];

    /// <summary>Reads a time zone: <c>Z</c>, <c>UTC</c>, a fixed offset such as <c>+07:00</c>, or an IANA id such as <c>Asia/Ho_Chi_Minh</c>.</summary>
    public static bool TryParseZone(string text, out TimeZoneInfo zone)
    {
        if (text is "Z" or "UTC")
        {
            zone = TimeZoneInfo.Utc;
            return true;
        }

        var offset = FixedOffset().Match(text);
        if (offset.Success)
        {
            var span = new TimeSpan(int.Parse(offset.Groups["h"].Value, CultureInfo.InvariantCulture), int.Parse(offset.Groups["m"].Value, CultureInfo.InvariantCulture), 0);
            if (span > TimeSpan.FromHours(14))
            {
                zone = TimeZoneInfo.Utc;
                return false;
            }

            zone = TimeZoneInfo.CreateCustomTimeZone(text, offset.Groups["sign"].Value == "-" ? -span : span, text, text);
            return true;
        }

        return TimeZoneInfo.TryFindSystemTimeZoneById(text, out zone!);
    }

    /// <summary>Whether a .NET custom date-time format string can format and parse a value.</summary>
    public static bool IsValidFormat(string format)
    {
        try
        {
            var sample = new DateTimeOffset(2025, 11, 18, 14, 31, 12, 345, TimeSpan.FromHours(7));
            var text = sample.ToString(format, CultureInfo.InvariantCulture);
            return DateTime.TryParseExact(text, format, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>Formats an instant as the source expects it: converted to the source's zone, in its format.</summary>
    /// <remarks>A format coarser than the instant truncates (12.5 s is written 12), so an inclusive lower bound never moves later.</remarks>
    public static string Format(DateTimeOffset value, string format, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTime(value, zone).ToString(format, CultureInfo.InvariantCulture);

    /// <summary>Reads a source's date-time in <paramref name="format"/>, or ISO 8601 when it is <c>null</c>; a value without offset is in <paramref name="zone"/>.</summary>
    public static bool TryParse(string text, string? format, TimeZoneInfo zone, out DateTimeOffset value)
    {
        string[] formats = format is null ? IsoFormats : [format];

        // RoundtripKind tells whether the text carried an offset (Local or Utc) or not (Unspecified).
        if (!DateTime.TryParseExact(text, formats, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed))
        {
            value = default;
            return false;
        }

        if (parsed.Kind == DateTimeKind.Unspecified)
        {
            value = new DateTimeOffset(parsed, zone.GetUtcOffset(parsed));
            return true;
        }

        return DateTimeOffset.TryParseExact(text, formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out value);
    }

    [GeneratedRegex(@"^(?<sign>[+-])(?<h>\d{2}):(?<m>\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex FixedOffset();
}
