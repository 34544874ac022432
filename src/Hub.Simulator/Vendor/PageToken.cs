using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Hub.Simulator.Vendor;

/// <summary>
/// The opaque <c>pageToken</c>: where the next page starts. The index is exact while the feed's composition is the
/// same; when the item-level faults changed in between, the page starts at the first entry with the same position
/// time instead (a few items may come again; none is skipped).
/// </summary>
internal sealed record PageToken(int Generation, int Index, long PositionTicks)
{
    private const string Version = "v1";

    public static string Encode(PageToken token) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Version}:{token.Generation}:{token.Index}:{token.PositionTicks}")));

    public static PageToken? Decode(string value)
    {
        try
        {
            var parts = Encoding.ASCII.GetString(Base64Url.DecodeFromChars(value)).Split(':');
            return parts.Length == 4
                && parts[0] == Version
                && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var generation)
                && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                && long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                ? new PageToken(generation, index, ticks)
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
