using System.Globalization;
using System.Text;
using Hub.Core.Audit;
using Hub.Worker.Api;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Hub.Worker.Pages.Ui;

/// <summary>
/// The audit view of one exchange-log entry, for auditors only: what it records (direction, kind, connector, actor,
/// reason, times), its place in the Merkle tree, and on request its payload. A payload holds personal data: as through
/// <c>GET /api/exchange/{id}/payload</c>, each read is first appended to the log as <c>exchange.payload-read</c> with the
/// auditor as actor and the reason given, and the page names that entry. A read is a POST so that no link, prefetch or
/// reload reads a payload unrecorded.
/// </summary>
public sealed class ExchangeModel(ExchangeLog log) : PageModel
{
    /// <summary>Most payload bytes shown on the page; the rest is left out with a note.</summary>
    public const int MaxShown = 1 << 20;

    /// <summary>The entry shown.</summary>
    public ExchangeEntry? Entry { get; private set; }

    /// <summary>Its payload as text (UTF-8), or base64 when it is not text; <c>null</c> until read.</summary>
    public string? Payload { get; private set; }

    /// <summary>Whether <see cref="Payload"/> is base64 of binary bytes.</summary>
    public bool PayloadIsBase64 { get; private set; }

    /// <summary>Whether the payload was longer than what is shown.</summary>
    public bool PayloadCut { get; private set; }

    /// <summary>The log entry that records the read.</summary>
    public long? ReadRecordedAs { get; private set; }

    /// <summary>Why the payload or the entry cannot be shown.</summary>
    public string? Problem { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFoundPage(id);

    public async Task<IActionResult> OnPostPayloadAsync(string id, string? reason, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFoundPage(id);
        }

        var why = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();
        if (why is not null && (why.Length > Actors.MaxReasonLength || why.Any(char.IsControl)))
        {
            Problem = $"A reason has 1 to {Actors.MaxReasonLength} characters and no line breaks: it is recorded with the read.";
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var (actor, _, _) = Actors.Of(HttpContext);
        var read = await ExchangeApi.ReadPayloadAsync(Entry!, actor, why, HttpContext.Connection.RemoteIpAddress?.ToString(), log, cancellationToken);
        Response.Headers.CacheControl = "no-store";
        if (read.Problem is { } missing)
        {
            Problem = missing.Detail;
            return Page();
        }

        var bytes = read.Bytes!;
        ReadRecordedAs = read.RecordedAs;
        PayloadCut = bytes.Length > MaxShown;
        var shown = bytes.AsSpan(0, Math.Min(bytes.Length, MaxShown));
        try
        {
            Payload = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(shown);
        }
        catch (DecoderFallbackException)
        {
            (Payload, PayloadIsBase64) = (Convert.ToBase64String(shown), true);
        }

        Response.Headers[ExchangeApi.RecordedAsHeader] = read.RecordedAs.ToString(CultureInfo.InvariantCulture);
        return Page();
    }

    private async Task<bool> LoadAsync(string id, CancellationToken cancellationToken)
    {
        Entry = long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var entryId) && entryId > 0
            ? await log.GetAsync(entryId, cancellationToken)
            : null;
        return Entry is not null;
    }

    private PageResult NotFoundPage(string id)
    {
        Problem = long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0
            ? $"No exchange-log entry has id {n}."
            : $"'{id}' is not an exchange-log entry id (a positive whole number).";
        Response.StatusCode = StatusCodes.Status404NotFound;
        return Page();
    }
}
