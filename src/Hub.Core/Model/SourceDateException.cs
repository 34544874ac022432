namespace Hub.Core.Model;

/// <summary>
/// A source date field holds a value that is not a date in any accepted format. Thrown instead of guessing,
/// so that a bad value fails the record that carries it and is seen, rather than silently becoming a default.
/// </summary>
public sealed class SourceDateException : FormatException
{
    // Long garbage would make log lines unreadable; the full value stays available in Value.
    private const int MaxValueLengthInMessage = 100;

    public SourceDateException(string field, string value)
        : base(BuildMessage(field, value))
    {
        Field = field;
        Value = value;
    }

    /// <summary>The field (wire name) that held the value, for example <c>NgayHenTra</c>.</summary>
    public string Field { get; }

    /// <summary>The value exactly as the source sent it.</summary>
    public string Value { get; }

    private static string BuildMessage(string field, string value)
    {
        var shown = value.Length <= MaxValueLengthInMessage ? value : string.Concat(value.AsSpan(0, MaxValueLengthInMessage), "…");
        return $"Field '{field}' has value '{shown}' which is not a date in any accepted format ({SourceDates.AcceptedFormatsText})";
    }
}
