using System.Globalization;
using Hub.Core.Model;

namespace Hub.Tests.Model;

public class SourceDatesTests
{
    [Theory]
    // National portal: yyyyMMddHHmmss, Vietnam time without a zone.
    [InlineData("20251118081509", "2025-11-18T08:15:09.0000000+07:00")]
    [InlineData("20240229235959", "2024-02-29T23:59:59.0000000+07:00")]
    // Vendor REST: ISO-8601 with a zone, with or without a fraction.
    [InlineData("2025-11-18T01:15:09.000+0000", "2025-11-18T01:15:09.0000000+00:00")]
    [InlineData("2025-11-18T01:15:09.000+00:00", "2025-11-18T01:15:09.0000000+00:00")]
    [InlineData("2025-11-18T01:15:09+0000", "2025-11-18T01:15:09.0000000+00:00")]
    [InlineData("2025-11-18T08:15:09+07:00", "2025-11-18T08:15:09.0000000+07:00")]
    [InlineData("2025-11-18T03:15:09.5-05:00", "2025-11-18T03:15:09.5000000-05:00")]
    [InlineData("2025-11-18T01:15:09Z", "2025-11-18T01:15:09.0000000+00:00")]
    [InlineData("2025-11-18T01:15:09.123Z", "2025-11-18T01:15:09.1230000+00:00")]
    // ISO-8601 without a zone: Vietnam time.
    [InlineData("2025-11-18T08:15:09", "2025-11-18T08:15:09.0000000+07:00")]
    [InlineData("2025-11-18T08:15:09.1234567", "2025-11-18T08:15:09.1234567+07:00")]
    // yyyy-MM-dd HH:mm:ss, Vietnam time.
    [InlineData("2025-11-18 08:15:09", "2025-11-18T08:15:09.0000000+07:00")]
    public void Accepted_format_parses_to_the_instant_and_offset(string value, string expectedRoundTrip)
    {
        var parsed = SourceDates.Parse("NgayHenTra", value);

        Assert.NotNull(parsed);
        Assert.Equal(expectedRoundTrip, parsed.Value.ToString("o", CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("20251118081509", "2025-11-18T08:15:09.0000000+00:00")]
    [InlineData("2025-11-18T08:15:09", "2025-11-18T08:15:09.0000000+00:00")]
    [InlineData("2025-11-18 08:15:09", "2025-11-18T08:15:09.0000000+00:00")]
    // A value with its own zone keeps it.
    [InlineData("2025-11-18T08:15:09+07:00", "2025-11-18T08:15:09.0000000+07:00")]
    [InlineData("2025-11-18T08:15:09Z", "2025-11-18T08:15:09.0000000+00:00")]
    public void Assumed_offset_applies_only_to_values_without_a_zone(string value, string expectedRoundTrip)
    {
        var parsed = SourceDates.Parse("appliedDate", value, TimeSpan.Zero);

        Assert.NotNull(parsed);
        Assert.Equal(expectedRoundTrip, parsed.Value.ToString("o", CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Empty_value_means_absent(string? value) => Assert.Null(SourceDates.Parse("NgayHenTra", value));

    [Theory]
    [InlineData("NgayHenTra", "2025-13-01")]
    [InlineData("NgayHenTra", "20251332081509")]
    [InlineData("NgayTiepNhan", "20251301081509")]
    [InlineData("NgayTiepNhan", "20250230120000")]
    [InlineData("NgayNopHoSo", "20251118246000")]
    [InlineData("NgayNopHoSo", "2025-02-29 10:00:00")]
    [InlineData("NgayKetThucXuLy", "not a date")]
    [InlineData("NgayKetThucXuLy", "18/11/2025 08:15:09")]
    [InlineData("NgayTra", "2025-11-18")]
    [InlineData("NgayTra", "20251118")]
    [InlineData("NgayTuChoi", "20251118081509x")]
    [InlineData("NgayTuChoi", "2025-11-18T08:15:09+07:00 extra")]
    [InlineData("appointmentDate", " 20251118081509")]
    [InlineData("appointmentDate", "2025-11-18T08:15")]
    [InlineData("appliedDate", "2025-11-18T08:15:09.12345678")]
    [InlineData("appliedDate", "2025-11-18T08:15:09+25:00")]
    [InlineData("updatedDate", "1763453709")]
    public void Value_in_no_accepted_format_throws_naming_field_and_value(string field, string value)
    {
        var error = Assert.Throws<SourceDateException>(() => SourceDates.Parse(field, value));

        Assert.Equal(field, error.Field);
        Assert.Equal(value, error.Value);
        Assert.Contains($"'{field}'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{value}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("yyyyMMddHHmmss", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Error_message_reads_as_documented()
    {
        var error = Assert.Throws<SourceDateException>(() => SourceDates.Parse("NgayHenTra", "2025-13-01"));

        Assert.Equal(
            "Field 'NgayHenTra' has value '2025-13-01' which is not a date in any accepted format (yyyyMMddHHmmss, ISO-8601, yyyy-MM-dd HH:mm:ss)",
            error.Message);
    }

    [Fact]
    public void Source_date_error_is_a_format_error() =>
        Assert.IsAssignableFrom<FormatException>(Assert.ThrowsAny<Exception>(() => SourceDates.Parse("NgayHenTra", "x")));

    [Theory]
    [InlineData("2025-11-18T01:15:09.0000000+00:00", "20251118081509")]
    [InlineData("2025-11-18T08:15:09.0000000+07:00", "20251118081509")]
    [InlineData("2025-12-31T20:00:00.0000000-05:00", "20260101080000")]
    public void Vietnam_format_is_wall_clock_time_at_plus_seven(string instant, string expected) =>
        Assert.Equal(expected, SourceDates.FormatVietnam(DateTimeOffset.Parse(instant, CultureInfo.InvariantCulture)));

    [Fact]
    public void Vietnam_format_round_trips_through_parse()
    {
        var instant = new DateTimeOffset(2026, 6, 9, 1, 2, 3, TimeSpan.Zero);

        Assert.Equal(instant, SourceDates.Parse("NgayHenTra", SourceDates.FormatVietnam(instant)));
    }
}
