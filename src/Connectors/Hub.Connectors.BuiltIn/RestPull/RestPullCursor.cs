using System.Text.Json;
using System.Text.Json.Serialization;

namespace Hub.Connectors.BuiltIn.RestPull;

/// <summary>
/// The cursor a rest-pull connector hands to the hub. Between runs it is collapsed to <see cref="From"/> alone; within
/// a run it also holds the position of the next page (<see cref="Page"/>, <see cref="Offset"/> or <see cref="Token"/>)
/// and the greatest item time seen so far, so a run resumed from it reads the next page of the same query and still
/// ends on the right lower bound.
/// </summary>
/// <param name="From">
/// Between runs: the inclusive lower bound of the next run (before lookback). Within a run: the lower bound the run's
/// query uses (lookback applied), unchanged until the run ends.
/// </param>
/// <param name="MaxSeen">Within a run: the greatest cursor-field value seen so far, and never less than the run's stored lower bound.</param>
/// <param name="Page">Within a run with numbered pages: the next page.</param>
/// <param name="Offset">Within a run with offset paging: the next offset.</param>
/// <param name="Token">Within a run with page tokens: the token of the next page.</param>
/// <param name="Exact">
/// Between runs: <see cref="From"/> is read as given, without the lookback. Only the start of a back-fill
/// (<see cref="RestPullSource.CursorAt"/>) says so: its range is explicit, a lookback would only read more.
/// </param>
internal sealed record RestPullCursor(
    [property: JsonPropertyName("from")] DateTimeOffset? From,
    [property: JsonPropertyName("maxSeen")] DateTimeOffset? MaxSeen = null,
    [property: JsonPropertyName("page")] int? Page = null,
    [property: JsonPropertyName("offset")] long? Offset = null,
    [property: JsonPropertyName("token")] string? Token = null,
    [property: JsonPropertyName("exact")] bool? Exact = null)
{
    /// <summary>Whether the cursor points into a run (a next page), rather than being collapsed between runs.</summary>
    [JsonIgnore]
    public bool IsMidRun => Page is not null || Offset is not null || Token is not null;

    public string Serialize() => JsonSerializer.Serialize(this, RestPullJsonContext.Default.RestPullCursor);

    /// <exception cref="ConnectorException">The text is not a rest-pull cursor.</exception>
    public static RestPullCursor? Deserialize(string? text)
    {
        if (text is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(text, RestPullJsonContext.Default.RestPullCursor)
                ?? throw new JsonException("The cursor is JSON null.");
        }
        catch (JsonException ex)
        {
            throw new ConnectorException(
                FailureSide.Hub,
                retryable: false,
                "The stored cursor is not a rest-pull cursor (was it written by another connector kind?); reset the connector's cursor.",
                ex);
        }
    }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RestPullCursor))]
internal sealed partial class RestPullJsonContext : JsonSerializerContext;
