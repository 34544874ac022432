using System.Globalization;

namespace Hub.Core.Model;

/// <summary>
/// Parses the date strings that source systems send. The accepted shapes are the ones seen on the wire
/// (see DOMAIN.md): the national portal's <c>yyyyMMddHHmmss</c> in Vietnam time without a zone, vendor REST
/// ISO-8601 with or without a zone, and <c>yyyy-MM-dd HH:mm:ss</c>. Anything else throws
/// <see cref="SourceDateException"/>; there is no lenient fallback and no silent default.
/// </summary>
public static class SourceDates
{
    /// <summary>Vietnam time, UTC+07:00 all year (no daylight saving time).</summary>
    public static readonly TimeSpan VietnamOffset = TimeSpan.FromHours(7);

    internal const string AcceptedFormatsText = "yyyyMMddHHmmss, ISO-8601, yyyy-MM-dd HH:mm:ss";

    // ISO-8601 with a numeric zone. "zzz" reads both +00:00 and +0000; ".FFFFFFF" makes the fraction
    // (and its dot) optional, with 1 to 7 digits.
    private static readonly string[] ZonedFormats = ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz"];

    // ISO-8601 with the UTC designator Z.
    private static readonly string[] UtcFormats = ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'"];

    // Values without a zone: read as wall-clock time at the assumed offset (Vietnam by default).
    private static readonly string[] ZonelessFormats =
    [
        "yyyyMMddHHmmss",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd HH:mm:ss",
    ];

    /// <summary>
    /// Every accepted format in the order <see cref="Parse"/> tries them, for readers that apply their own time zone
    /// to values without one (the mapping stage).
    /// </summary>
    internal static readonly IReadOnlyList<string> AcceptedFormats = [.. ZonedFormats, .. UtcFormats, .. ZonelessFormats];

    /// <summary>
    /// Parses a source date. Null, empty or whitespace means the source sent no date (empty due dates are
    /// common) and gives null. Surrounding whitespace around a date is not accepted.
    /// </summary>
    /// <param name="field">The wire name of the field, used in the error, for example <c>NgayHenTra</c>.</param>
    /// <param name="value">The value as the source sent it.</param>
    /// <param name="assumedOffset">The offset of values that carry no zone; Vietnam time (+07:00) when null.</param>
    /// <exception cref="SourceDateException">The value is not a date in any accepted format.</exception>
    public static DateTimeOffset? Parse(string field, string? value, TimeSpan? assumedOffset = null)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (DateTimeOffset.TryParseExact(value, ZonedFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var zoned))
        {
            return zoned;
        }

        if (DateTimeOffset.TryParseExact(value, UtcFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var utc))
        {
            return utc;
        }

        if (DateTime.TryParseExact(value, ZonelessFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            return new DateTimeOffset(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), assumedOffset ?? VietnamOffset);
        }

        throw new SourceDateException(field, value);
    }

    /// <summary>Formats an instant as the national portal expects: <c>yyyyMMddHHmmss</c> in Vietnam time.</summary>
    public static string FormatVietnam(DateTimeOffset value) =>
        value.ToOffset(VietnamOffset).ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
}
