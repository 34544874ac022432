using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Hub.Simulator.Generation;

namespace Hub.Simulator.Vendor;

/// <summary>
/// The vendor's wire format. Header dates are UTC ISO-8601 with milliseconds and a <c>+0000</c> zone; task dates
/// are <c>yyyy-MM-dd HH:mm:ss</c> in Vietnam time without a zone (two date formats in one API, as seen in the wild).
/// </summary>
internal static class VendorJson
{
    public const string HeaderDateFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'+0000'";
    public const string TaskDateFormat = "yyyy-MM-dd HH:mm:ss";
    public const int VietnameseLanguageId = 228;

    // Vietnamese text as it is, not \u escapes; the payload is JSON for machines, never embedded in HTML.
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string HeaderDate(DateTimeOffset value) =>
        value.UtcDateTime.ToString(HeaderDateFormat, CultureInfo.InvariantCulture);

    public static string TaskDate(DateTimeOffset value) =>
        value.ToOffset(ProvinceGenerator.Vietnam).ToString(TaskDateFormat, CultureInfo.InvariantCulture);

    public static void WriteItem(Utf8JsonWriter w, SimRevision revision, string agencyPrefix, FeedItemKind kind)
    {
        var dossier = revision.Dossier;
        w.WriteStartObject();
        w.WriteString("id", dossier.Id);
        w.WriteNumber("revision", revision.Number);
        if (kind != FeedItemKind.MissingCode)
        {
            w.WriteString("code", dossier.Code);
        }

        w.WritePropertyName("procedure");
        w.WriteStartObject();
        w.WriteString("code", dossier.Procedure.CodeFor(agencyPrefix));
        w.WritePropertyName("translate");
        w.WriteStartArray();
        w.WriteStartObject();
        w.WriteNumber("languageId", VietnameseLanguageId);
        w.WriteString("name", dossier.Procedure.Name);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();

        w.WritePropertyName("sector");
        w.WriteStartObject();
        w.WriteString("code", dossier.Procedure.SectorCode);
        w.WriteEndObject();

        w.WritePropertyName("agency");
        w.WriteStartObject();
        w.WriteString("code", dossier.Agency.Code);
        w.WriteString("name", dossier.Agency.Name);
        w.WriteEndObject();

        w.WritePropertyName("applicant");
        w.WriteStartObject();
        w.WritePropertyName("data");
        w.WriteStartObject();
        w.WriteString("fullname", dossier.ApplicantName);
        w.WriteString("identityNumber", dossier.IdentityNumber);
        w.WriteNumber("type", (int)dossier.ApplicantType);
        w.WriteEndObject();
        w.WriteEndObject();

        w.WritePropertyName("applyMethod");
        w.WriteStartObject();
        w.WriteNumber("id", dossier.ApplyMethod.Id);
        w.WriteString("name", dossier.ApplyMethod.Name);
        w.WriteEndObject();

        w.WriteBoolean("paidOnline", dossier.PaidOnline);

        w.WritePropertyName("dossierStatus");
        w.WriteStartObject();
        if (kind == FeedItemKind.UnknownStatus)
        {
            w.WriteNumber("id", VendorStatuses.UnknownId);
            w.WriteString("name", "Trạng thái không xác định");
        }
        else
        {
            w.WriteNumber("id", revision.VendorStatus.Id);
            w.WriteString("name", revision.VendorStatus.Name);
        }

        w.WriteEndObject();

        WriteNullable(w, "statusCurrentTask", revision.StatusCurrentTask);
        WriteHeaderDate(w, "appliedDate", revision.Applied);
        WriteHeaderDate(w, "acceptedDate", revision.Accepted);
        WriteHeaderDate(w, "appointmentDate", revision.Appointment);
        WriteHeaderDate(w, "completedDate", revision.Completed);
        WriteHeaderDate(w, "returnedDate", revision.Returned);
        WriteHeaderDate(w, "refusedDate", revision.Refused);
        if (kind == FeedItemKind.UnparseableDate)
        {
            // Day 00 of the month: shaped like the real format, but no date.
            w.WriteString("updatedDate", revision.UpdatedAt.UtcDateTime.ToString("yyyy-MM-'00T'HH:mm:ss.fff'+0000'", CultureInfo.InvariantCulture));
        }
        else
        {
            WriteHeaderDate(w, "updatedDate", revision.UpdatedAt);
        }

        w.WritePropertyName("tasks");
        w.WriteStartArray();
        foreach (var task in revision.Tasks)
        {
            w.WriteStartObject();
            w.WriteString("assignee", task.Assignee);
            w.WriteString("title", task.Title);
            w.WriteString("department", task.Department);
            w.WriteString("content", task.Content);
            w.WritePropertyName("statusAfter");
            w.WriteStartObject();
            w.WriteNumber("id", VendorStatuses.FromNational(task.StatusAfter).Id);
            w.WriteEndObject();
            w.WriteString("startDate", TaskDate(task.Start));
            w.WriteString("endDate", TaskDate(task.End));
            w.WriteString("deadline", TaskDate(task.Deadline));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteHeaderDate(Utf8JsonWriter w, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            w.WriteString(name, HeaderDate(v));
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteString(name, value);
        }
    }
}
