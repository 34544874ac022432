using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Hub.Core.Secrets;

/// <summary>
/// ASP.NET Core Data Protection as the hub uses it: keys in PostgreSQL (<see cref="PostgresKeyRepository"/>) under one
/// fixed application name, so that every hub process sharing the database, whatever its folder or host, reads the same
/// key ring (docs/decisions/0008).
/// </summary>
public static class HubDataProtection
{
    /// <summary>
    /// The application name: Data Protection isolates applications by it, and by default derives it from the content
    /// root path, which differs between hosts and deployments.
    /// </summary>
    public const string ApplicationName = "hub";

    /// <summary>Registers Data Protection with its key ring in the database that <paramref name="dataSource"/> gives.</summary>
    public static IServiceCollection AddHubDataProtection(this IServiceCollection services, Func<IServiceProvider, NpgsqlDataSource> dataSource)
    {
        services.AddDataProtection().SetApplicationName(ApplicationName);
        services.AddOptions<KeyManagementOptions>().Configure<IServiceProvider>((options, sp) =>
            options.XmlRepository = new PostgresKeyRepository(() => dataSource(sp)));
        return services;
    }

    /// <summary>A Data Protection provider over the key ring of <paramref name="dataSource"/>, for tools and tests outside the hub's host.</summary>
    public static IDataProtectionProvider CreateProvider(NpgsqlDataSource dataSource)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddHubDataProtection(_ => dataSource);
        var provider = services.BuildServiceProvider();
        EnsureKeyAsync(dataSource, provider.GetRequiredService<IKeyManager>(), TimeProvider.System, CancellationToken.None).GetAwaiter().GetResult();
        return provider.GetRequiredService<IDataProtectionProvider>();
    }

    /// <summary>
    /// Makes sure the ring has a key usable now, creating one if not, under a PostgreSQL advisory lock. Without it, hub
    /// processes starting together on an empty ring would each create a key of their own and, until their cached rings
    /// are refreshed, fail to read what the others encrypted.
    /// </summary>
    public static async Task EnsureKeyAsync(NpgsqlDataSource dataSource, IKeyManager keys, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(keys);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("select pg_advisory_lock(hashtext(current_schema() || '/hub-data-protection'))", connection))
        {
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            var now = time.GetUtcNow();
            if (!keys.GetAllKeys().Any(k => !k.IsRevoked && k.ActivationDate <= now && k.ExpirationDate > now.AddDays(2)))
            {
                // Data Protection's own default lifetime; it creates the next key itself before this one expires.
                keys.CreateNewKey(now, now.AddDays(90));
            }
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("select pg_advisory_unlock(hashtext(current_schema() || '/hub-data-protection'))", connection);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }
}
