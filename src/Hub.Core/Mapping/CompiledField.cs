using System.Collections.Frozen;
using System.Globalization;
using Hub.Contracts;

namespace Hub.Core.Mapping;

/// <summary>A converted field value; <see cref="HasValue"/> is false when the record gives no value.</summary>
internal readonly struct FieldValue
{
    public bool HasValue { get; init; }

    /// <summary>The text of text fields; for status fields, the raw code as the source sent it.</summary>
    public string? Text { get; init; }

    public DateTimeOffset Date { get; init; }

    /// <summary>Integers, and the numbers of statuses and enums.</summary>
    public long Number { get; init; }

    public bool Flag { get; init; }

    public string? TextOrNull => HasValue ? Text : null;

    public DateTimeOffset? DateOrNull => HasValue ? Date : null;

    public long? NumberOrNull => HasValue ? Number : null;

    public bool? FlagOrNull => HasValue ? Flag : null;
}

/// <summary>One canonical field of a compiled mapping: where its value is and how it is converted.</summary>
internal sealed class CompiledField
{
    public required string Name { get; init; }

    public required FieldType Type { get; init; }

    /// <summary>The path, or null for a constant.</summary>
    public FieldPath? Path { get; init; }

    /// <summary>The converted constant, when <see cref="Path"/> is null.</summary>
    public FieldValue Constant { get; init; }

    /// <summary>The date reader of date fields.</summary>
    public DateReader? Dates { get; init; }

    /// <summary>The field's translation table, targets already converted; a value not in it is not accepted.</summary>
    public FrozenDictionary<string, FieldValue>? Values { get; init; }
}

/// <summary>Conversion of a field's trimmed, non-empty text to its canonical type.</summary>
internal static class Conversion
{
    // Longer values are cut in messages; codes and dates are short, anything longer is garbage.
    private const int MaxShownLength = 100;

    private static readonly FrozenDictionary<string, int> ApplicantTypeNames = Names<ApplicantType>();
    private static readonly FrozenDictionary<string, int> ChannelNames = Names<Channel>();
    private static readonly string ApplicantTypeText = $"1-4 or {string.Join(", ", Enum.GetNames<ApplicantType>())}";
    private static readonly string ChannelText = $"1-3 or {string.Join(", ", Enum.GetNames<Channel>())}";

    /// <summary>
    /// Converts <paramref name="text"/>. Returns <see cref="ConversionOutcome.Unmapped"/> for a status code missing from
    /// the status table, and <see cref="ConversionOutcome.Invalid"/> with <paramref name="problem"/> (for example
    /// <c>'2025-13-45' is not a date in format(s) …</c>) for any other unreadable value.
    /// </summary>
    public static ConversionOutcome Convert(
        FieldType type,
        string text,
        DateReader? dates,
        IReadOnlyDictionary<string, NationalStatus> statuses,
        out FieldValue value,
        out string? problem)
    {
        problem = null;
        switch (type)
        {
            case FieldType.Text:
                value = new FieldValue { HasValue = true, Text = text };
                return ConversionOutcome.Ok;

            case FieldType.Date:
                if (dates!.TryParse(text, out var date))
                {
                    value = new FieldValue { HasValue = true, Date = date };
                    return ConversionOutcome.Ok;
                }

                problem = $"'{Shown(text)}' is not a date in format(s) {dates.FormatsText}";
                break;

            case FieldType.Integer:
                if (long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
                {
                    value = new FieldValue { HasValue = true, Number = number };
                    return ConversionOutcome.Ok;
                }

                problem = $"'{Shown(text)}' is not a whole number";
                break;

            case FieldType.Status:
                if (statuses.TryGetValue(text, out var status))
                {
                    value = new FieldValue { HasValue = true, Text = text, Number = (int)status };
                    return ConversionOutcome.Ok;
                }

                value = default;
                return ConversionOutcome.Unmapped;

            case FieldType.ApplicantType:
                if (TryEnum(text, ApplicantTypeNames, 4, out var applicant))
                {
                    value = new FieldValue { HasValue = true, Number = applicant };
                    return ConversionOutcome.Ok;
                }

                problem = $"'{Shown(text)}' is not an applicant type ({ApplicantTypeText})";
                break;

            case FieldType.Channel:
                if (TryEnum(text, ChannelNames, 3, out var channel))
                {
                    value = new FieldValue { HasValue = true, Number = channel };
                    return ConversionOutcome.Ok;
                }

                problem = $"'{Shown(text)}' is not a channel ({ChannelText})";
                break;

            case FieldType.Boolean:
                if (text == "1" || text.Equals("true", StringComparison.OrdinalIgnoreCase))
                {
                    value = new FieldValue { HasValue = true, Flag = true };
                    return ConversionOutcome.Ok;
                }

                if (text == "0" || text.Equals("false", StringComparison.OrdinalIgnoreCase))
                {
                    value = new FieldValue { HasValue = true, Flag = false };
                    return ConversionOutcome.Ok;
                }

                problem = $"'{Shown(text)}' is not a boolean (1, 0, true or false)";
                break;

            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }

        value = default;
        return ConversionOutcome.Invalid;
    }

    /// <summary>A value as shown in messages: cut after 100 characters.</summary>
    public static string Shown(string value) =>
        value.Length <= MaxShownLength ? value : string.Concat(value.AsSpan(0, MaxShownLength), "…");

    // A code 1..max written in ASCII digits (no sign, no spaces), or the member's name in any case.
    private static bool TryEnum(string text, FrozenDictionary<string, int> names, int max, out int value)
    {
        if (text.Length is > 0 and <= 3 && text.All(char.IsAsciiDigit))
        {
            value = int.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);
            return value >= 1 && value <= max;
        }

        return names.TryGetValue(text, out value);
    }

    private static FrozenDictionary<string, int> Names<TEnum>()
        where TEnum : struct, Enum =>
        Enum.GetValues<TEnum>().ToFrozenDictionary(v => v.ToString(), v => System.Convert.ToInt32(v, CultureInfo.InvariantCulture), StringComparer.OrdinalIgnoreCase);
}

/// <summary>The outcome of a conversion.</summary>
internal enum ConversionOutcome
{
    Ok,

    /// <summary>A status code missing from the status table.</summary>
    Unmapped,

    /// <summary>A value that is not of the field's type.</summary>
    Invalid,
}
