using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace Hub.Core.Secrets;

/// <summary>
/// Data Protection's key ring in the <c>data_protection_key</c> table (migration 0007), so that every hub process sharing
/// the database encrypts and decrypts with the same keys. Data Protection calls it synchronously, rarely (at start, when
/// its cached ring expires, when it creates a key).
/// </summary>
/// <param name="dataSource">The database; asked for only when the ring is first read, once the database is up.</param>
public sealed class PostgresKeyRepository(Func<NpgsqlDataSource> dataSource) : IXmlRepository
{
    /// <inheritdoc />
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var command = dataSource().CreateCommand("select xml from data_protection_key order by id");
        using var reader = command.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read())
        {
            elements.Add(XElement.Parse(reader.GetString(0)));
        }

        return elements;
    }

    /// <inheritdoc />
    public void StoreElement(XElement element, string friendlyName)
    {
        ArgumentNullException.ThrowIfNull(element);
        using var command = dataSource().CreateCommand("insert into data_protection_key (friendly_name, xml) values ($1, $2)");
        command.Parameters.Add(new() { Value = friendlyName });
        command.Parameters.Add(new() { Value = element.ToString(SaveOptions.DisableFormatting) });
        command.ExecuteNonQuery();
    }
}
