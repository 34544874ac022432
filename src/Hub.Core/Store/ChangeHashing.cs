using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Hub.Contracts;

namespace Hub.Core.Store;

/// <summary>
/// SHA-256 over a fixed binary encoding of a record's fields (type-tagged, length-prefixed, nulls marked), so that
/// equal content gives equal hashes whatever the order of arrival and two different records never collide by
/// concatenation. Times are taken to the microsecond, PostgreSQL's precision.
/// </summary>
internal static class ChangeHashing
{
    public static byte[] Hash(DossierChange c)
    {
        var w = new Writer();
        w.Text(c.SourceSystem); w.Text(c.NativeId); w.Text(c.DossierCode);
        w.Time(c.EventTime); w.Long(c.SourceVersion);
        w.Long((int)c.Status); w.Text(c.SourceStatus); w.Text(c.MappingVersion);
        w.Text(c.ProcedureCode); w.Text(c.ProcedureBaseCode); w.Text(c.ProcedureName); w.Text(c.SectorCode);
        w.Text(c.AgencyCode); w.Text(c.HandlingUnit);
        w.Long((int?)c.ApplicantType); w.Long((int?)c.Channel); w.Long(c.PaidOnline is { } p ? (p ? 1 : 0) : null);
        w.Time(c.SubmittedAt); w.Time(c.ReceivedAt); w.Time(c.DueAt);
        w.Time(c.ProcessingFinishedAt); w.Time(c.ResultReturnedAt); w.Time(c.RefusedAt);
        return w.Finish();
    }

    /// <summary>The step's natural key: (ThoiDiemXuLy, TrangThai, hash of NoiDungXuLy) within its dossier.</summary>
    public static byte[] StepKey(DossierStep s)
    {
        var w = new Writer();
        w.Time(s.StepTime); w.Long((int?)s.StatusAfter); w.Text(s.Action);
        return w.Finish();
    }

    public static byte[] Hash(DossierStep s)
    {
        var w = new Writer();
        w.Time(s.StepTime); w.Long((int?)s.StatusAfter); w.Text(s.Action);
        w.Text(s.Officer); w.Text(s.OfficerTitle); w.Text(s.Department);
        w.Time(s.StartedAt); w.Time(s.Deadline);
        return w.Finish();
    }

    /// <summary>Truncates to whole microseconds, the precision PostgreSQL keeps, and moves to UTC.</summary>
    public static DateTimeOffset ToMicroseconds(DateTimeOffset value) => new(value.UtcTicks - (value.UtcTicks % 10), TimeSpan.Zero);

    private sealed class Writer
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(512);

        public void Text(string? value)
        {
            if (value is null)
            {
                Tag(0);
                return;
            }

            Tag(1);
            var length = Encoding.UTF8.GetByteCount(value);
            BinaryPrimitives.WriteInt32LittleEndian(_buffer.GetSpan(4), length);
            _buffer.Advance(4);
            Encoding.UTF8.GetBytes(value, _buffer.GetSpan(length));
            _buffer.Advance(length);
        }

        public void Long(long? value)
        {
            if (value is not { } v)
            {
                Tag(0);
                return;
            }

            Tag(2);
            BinaryPrimitives.WriteInt64LittleEndian(_buffer.GetSpan(8), v);
            _buffer.Advance(8);
        }

        public void Time(DateTimeOffset? value) => Long(value is { } v ? ToMicroseconds(v).UtcTicks : null);

        public byte[] Finish() => SHA256.HashData(_buffer.WrittenSpan);

        private void Tag(byte tag)
        {
            _buffer.GetSpan(1)[0] = tag;
            _buffer.Advance(1);
        }
    }
}
