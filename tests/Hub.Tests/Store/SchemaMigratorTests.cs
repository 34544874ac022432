using Hub.Core.Store;
using Hub.Tests.Infrastructure;

namespace Hub.Tests.Store;

public class SchemaMigratorTests
{
    [Fact]
    public async Task Migrating_twice_applies_each_migration_once()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("migrate", migrate: false);
        Assert.Equal(SchemaMigrator.Migrations.Select(m => m.Version), await SchemaMigrator.PendingAsync(db, CancellationToken.None));

        await Task.WhenAll(SchemaMigrator.MigrateAsync(db, CancellationToken.None), SchemaMigrator.MigrateAsync(db, CancellationToken.None));
        await SchemaMigrator.MigrateAsync(db, CancellationToken.None);

        Assert.Empty(await SchemaMigrator.PendingAsync(db, CancellationToken.None));
        await using var count = db.CreateCommand("select count(*) from schema_migrations");
        Assert.Equal((long)SchemaMigrator.Migrations.Count, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_migration_changed_after_it_was_applied_is_refused()
    {
        await using var db = await TestDatabase.CreateSchemaAsync("edited");
        await using (var tamper = db.CreateCommand("update schema_migrations set checksum = 'edited' where version = 1"))
        {
            await tamper.ExecuteNonQueryAsync();
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => SchemaMigrator.MigrateAsync(db, CancellationToken.None));
        Assert.Contains("Migration 1 (status_store) was changed after it was applied", error.Message, StringComparison.Ordinal);
    }
}
