using Hub.Core.Postgres;
using Hub.Core.Store;
using Npgsql;

namespace Hub.Worker.Database;

/// <summary>
/// The hub's PostgreSQL: the server named by <c>ConnectionStrings:Hub</c>, or else a cluster the hub runs itself
/// (<see cref="LocalPostgres"/>), started before the web server and stopped after it. Migrations are applied at start.
/// </summary>
public sealed class HubDatabase(IConfiguration configuration, ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<HubDatabase>();
    private LocalPostgres? _local;
    private NpgsqlDataSource? _dataSource;

    /// <summary>The data source, available once the hub has started.</summary>
    public NpgsqlDataSource DataSource => _dataSource ?? throw new InvalidOperationException("The hub's database is not started yet.");

    /// <summary>The self-managed cluster, when the hub runs one.</summary>
    public LocalPostgres? Local => _local;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var connectionString = configuration.GetConnectionString("Hub");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            var options = configuration.GetSection("Hub:Database:Local").Get<LocalPostgresOptions>() ?? new LocalPostgresOptions();
            _local = await LocalPostgres.StartAsync(options, loggerFactory.CreateLogger<LocalPostgres>(), cancellationToken);
            connectionString = _local.ConnectionString;
        }
        else
        {
            _logger.LogInformation("Using the PostgreSQL server configured in ConnectionStrings:Hub");
        }

        var builder = new NpgsqlDataSourceBuilder(connectionString) { Name = "hub" };
        builder.UseLoggerFactory(loggerFactory);
        _dataSource = builder.Build();
        await SchemaMigrator.MigrateAsync(_dataSource, cancellationToken);
        _logger.LogInformation("Database schema is up to date ({Count} migrations)", SchemaMigrator.Migrations.Count);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }

        if (_local is not null)
        {
            await _local.StopAsync();
        }
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None);
}

public static class HubDatabaseExtensions
{
    /// <summary>Registers the hub's database (own or configured), the data source and the status store.</summary>
    public static IHostApplicationBuilder AddHubDatabase(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<HubDatabase>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<HubDatabase>());
        builder.Services.AddSingleton(sp => sp.GetRequiredService<HubDatabase>().DataSource);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<StatusStore>();
        builder.Services.AddSingleton<NationalIndicators>();
        return builder;
    }
}
