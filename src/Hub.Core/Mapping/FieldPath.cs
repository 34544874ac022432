using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Hub.Core.Mapping;

/// <summary>
/// A compiled field path: <c>a.b[0].c</c>, dot-separated property names with optional <c>[n]</c> indexes after each
/// name, optionally prefixed by <c>$.</c> (read from the holding dossier record instead of the current item). Property
/// names are matched exactly (ordinal, case-sensitive); a name cannot hold <c>.</c>, <c>[</c>, <c>]</c> or whitespace.
/// </summary>
internal sealed class FieldPath
{
    private readonly Segment[] _segments;

    private FieldPath(string text, bool fromRoot, Segment[] segments)
    {
        Text = text;
        FromRoot = fromRoot;
        _segments = segments;
    }

    /// <summary>The path as written in the definition.</summary>
    public string Text { get; }

    /// <summary>Whether the path starts with <c>$.</c>.</summary>
    public bool FromRoot { get; }

    /// <summary>Parses a path; on failure returns null and says what is wrong.</summary>
    public static FieldPath? TryParse(string? text, out string? error)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "the path is empty";
            return null;
        }

        var fromRoot = text.StartsWith("$.", StringComparison.Ordinal);
        var position = fromRoot ? 2 : 0;
        var segments = new List<Segment>();
        while (true)
        {
            var start = position;
            while (position < text.Length && text[position] is not ('.' or '[' or ']') && !char.IsWhiteSpace(text[position]) && !char.IsControl(text[position]))
            {
                position++;
            }

            if (position == start)
            {
                error = position == text.Length
                    ? $"path '{text}' ends where a property name is expected"
                    : $"path '{text}' has {Describe(text[position])} at character {position + 1} where a property name is expected";
                return null;
            }

            var name = text[start..position];
            segments.Add(new Segment(Encoding.UTF8.GetBytes(name), -1, position));

            while (position < text.Length && text[position] == '[')
            {
                var close = text.IndexOf(']', position + 1);
                if (close < 0)
                {
                    error = $"path '{text}' has a '[' at character {position + 1} without a closing ']'";
                    return null;
                }

                var digits = text.AsSpan(position + 1, close - position - 1);
                if (digits.IsEmpty || !IsAsciiDigits(digits) || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    error = $"path '{text}' has index '[{digits}]' at character {position + 1}; an index is a whole number 0 or more";
                    return null;
                }

                position = close + 1;
                segments.Add(new Segment(null, index, position));
            }

            if (position == text.Length)
            {
                break;
            }

            if (text[position] != '.')
            {
                error = $"path '{text}' has {Describe(text[position])} at character {position + 1} where '.', '[' or the end is expected";
                return null;
            }

            position++;
        }

        error = null;
        return new FieldPath(text, fromRoot, [.. segments]);
    }

    /// <summary>
    /// Walks the path from <paramref name="item"/> (or <paramref name="root"/> for <c>$.</c> paths). A missing property,
    /// an index past the end, or a JSON null or empty string on the way means no value. A value of another kind on the
    /// way (a number where an object is expected) is a mismatch: <paramref name="mismatch"/> says which part.
    /// </summary>
    public PathOutcome Resolve(JsonElement item, JsonElement root, out JsonElement value, out int mismatch)
    {
        var current = FromRoot ? root : item;
        mismatch = -1;
        for (var i = 0; i < _segments.Length; i++)
        {
            ref readonly var segment = ref _segments[i];
            var expected = segment.Utf8Name is null ? JsonValueKind.Array : JsonValueKind.Object;
            if (current.ValueKind != expected)
            {
                value = default;
                if (IsNothing(current))
                {
                    return PathOutcome.Missing;
                }

                mismatch = i;
                return PathOutcome.Mismatch;
            }

            if (segment.Utf8Name is { } name)
            {
                if (!current.TryGetProperty(name, out current))
                {
                    value = default;
                    return PathOutcome.Missing;
                }
            }
            else
            {
                if (segment.Index >= current.GetArrayLength())
                {
                    value = default;
                    return PathOutcome.Missing;
                }

                current = current[segment.Index];
            }
        }

        value = current;
        return PathOutcome.Found;
    }

    /// <summary>Describes a mismatch found by <see cref="Resolve"/>: which part of the path held what.</summary>
    public string DescribeMismatch(int segment, JsonElement item, JsonElement root, string? prefix)
    {
        var current = FromRoot ? root : item;
        for (var i = 0; i < segment; i++)
        {
            current = _segments[i].Utf8Name is { } name ? current.GetProperty(name) : current[_segments[i].Index];
        }

        var expected = _segments[segment].Utf8Name is null ? "an array" : "an object";
        if (segment == 0)
        {
            // Records and step items are checked to be objects before any path is read; kept for completeness.
            return $"the item is {KindName(current.ValueKind)}, not {expected}";
        }

        var part = Text[.._segments[segment - 1].End];
        if (prefix is not null && !FromRoot)
        {
            part = $"{prefix}.{part}";
        }

        return $"'{part}' is {KindName(current.ValueKind)}, not {expected}";
    }

    /// <summary>Whether an element counts as no value: absent, JSON null, or an empty or whitespace-only string.</summary>
    public static bool IsNothing(JsonElement element) =>
        element.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null
        || (element.ValueKind == JsonValueKind.String && IsBlank(element));

    /// <summary>The kind of a JSON value in words: "an object", "a number".</summary>
    public static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static bool IsBlank(JsonElement element) => string.IsNullOrWhiteSpace(element.GetString());

    private static bool IsAsciiDigits(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static string Describe(char c) => char.IsWhiteSpace(c) || char.IsControl(c) ? "whitespace" : $"'{c}'";

    /// <summary>One step of a path: a property name (as UTF-8, what the JSON is compared in) or an array index; End is where it ends in the text.</summary>
    private readonly record struct Segment(byte[]? Utf8Name, int Index, int End);
}

/// <summary>What walking a path found.</summary>
internal enum PathOutcome
{
    /// <summary>A value (of any kind, possibly null or an empty string).</summary>
    Found,

    /// <summary>No value: a property is absent, an index is past the end, or null on the way.</summary>
    Missing,

    /// <summary>A value of the wrong kind on the way.</summary>
    Mismatch,
}
