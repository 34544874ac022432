using System.Text.Json;

namespace Hub.Connectors.BuiltIn.NationalPortal.Client;

/// <summary>
/// A reply of the national portal read as its clients read it: <c>{error_code, message, result, session}</c>, where
/// <c>error_code</c> is a number or a string, success is <c>0</c>, <c>"0"</c> or <c>"00"</c> (or, with no code, a message
/// saying <c>thành công</c>), and <c>đã tồn tại</c> in a message means "already exists".
/// </summary>
/// <param name="Code">The <c>error_code</c> as text (a number's digits, a string trimmed); <c>null</c> when absent.</param>
/// <param name="Message">The <c>message</c>; empty when absent.</param>
/// <param name="Session">The login's session token, at <c>session</c> or <c>result.session</c>.</param>
/// <param name="Rows">The per-row entries of <c>result</c>, when it is an array of objects.</param>
public sealed record PortalReply(string? Code, string Message, string? Session, IReadOnlyList<PortalRowResult> Rows)
{
    private const string SuccessWords = "thành công";
    private const string AlreadyExistsWords = "đã tồn tại";

    /// <summary>Whether the reply says the request succeeded.</summary>
    public bool IsSuccess => IsSuccessCode(Code) || (Code is null && SaysSuccess(Message));

    /// <summary>Whether the reply says (some of) the dossiers already exist.</summary>
    public bool SaysAlreadyExists => Code == PortalProtocol.Codes.AlreadyExists || SaysExists(Message);

    /// <summary>Whether the reply refuses the session (or credentials): <c>error_code</c> -1, or a message about an invalid or expired session.</summary>
    public bool IsAuthenticationFailure =>
        Code == PortalProtocol.Codes.AuthenticationFailed
        || (!IsSuccess && Message.Contains("session", StringComparison.OrdinalIgnoreCase)
            && (Message.Contains("invalid", StringComparison.OrdinalIgnoreCase) || Message.Contains("expired", StringComparison.OrdinalIgnoreCase)))
        || (!IsSuccess && Message.Contains("phiên", StringComparison.OrdinalIgnoreCase)
            && (Message.Contains("hết hạn", StringComparison.OrdinalIgnoreCase) || Message.Contains("không hợp lệ", StringComparison.OrdinalIgnoreCase)));

    /// <summary>Reads a reply body; <c>null</c> when it is not a JSON object.</summary>
    public static PortalReply? Read(ReadOnlySpan<byte> body)
    {
        JsonElement root;
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var rows = new List<PortalRowResult>();
        string? session = Text(root, "session");
        if (root.TryGetProperty("result", out var result))
        {
            if (result.ValueKind == JsonValueKind.Array)
            {
                foreach (var entry in result.EnumerateArray())
                {
                    if (entry.ValueKind == JsonValueKind.Object)
                    {
                        rows.Add(new PortalRowResult(Index(entry), Text(entry, PortalProtocol.DossierCodeField), Text(entry, "error_code"), Text(entry, "message") ?? ""));
                    }
                }
            }
            else if (result.ValueKind == JsonValueKind.Object)
            {
                session ??= Text(result, "session");
            }
        }

        return new PortalReply(Text(root, "error_code"), Text(root, "message") ?? "", session, rows);
    }

    /// <summary>Whether an <c>error_code</c> means success: one or more zeros (<c>0</c>, <c>"0"</c>, <c>"00"</c>).</summary>
    public static bool IsSuccessCode(string? code) => code is { Length: > 0 } && code.All(c => c == '0');

    /// <summary>Whether a message says success (<c>thành công</c>, any case; diacritics exact).</summary>
    public static bool SaysSuccess(string message) => message.Contains(SuccessWords, StringComparison.OrdinalIgnoreCase);

    /// <summary>Whether a message says "already exists" (<c>đã tồn tại</c>, any case; diacritics exact).</summary>
    public static bool SaysExists(string message) => message.Contains(AlreadyExistsWords, StringComparison.OrdinalIgnoreCase);

    private static string? Text(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString()!.Trim(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        } : null;

    private static int? Index(JsonElement entry) =>
        int.TryParse(Text(entry, "index"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index) ? index : null;
}

/// <summary>One entry of a reply's <c>result</c>: what became of one row.</summary>
/// <param name="Index">The row's position in <c>data</c>, when given.</param>
/// <param name="DossierCode">The row's <c>MaHoSo</c>, when given.</param>
/// <param name="Code">The row's <c>error_code</c>.</param>
/// <param name="Message">The row's <c>message</c>.</param>
public sealed record PortalRowResult(int? Index, string? DossierCode, string? Code, string Message)
{
    /// <summary>Whether the row was taken.</summary>
    public bool IsSuccess => PortalReply.IsSuccessCode(Code) || (Code is null && PortalReply.SaysSuccess(Message));

    /// <summary>Whether the row's dossier already exists.</summary>
    public bool SaysAlreadyExists => Code == PortalProtocol.Codes.AlreadyExists || PortalReply.SaysExists(Message);
}
