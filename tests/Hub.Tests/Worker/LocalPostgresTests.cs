using Hub.Core.Postgres;
using Microsoft.Extensions.Logging.Abstractions;

namespace Hub.Tests.Worker;

public class LocalPostgresTests
{
    [Fact]
    public async Task Missing_PostgreSQL_programs_are_an_error_that_names_the_package_to_install()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"no-postgres-{Guid.NewGuid():N}");
        var options = new LocalPostgresOptions { BinDirectory = missing, Directory = Path.Combine(missing, "cluster") };

        var error = await Assert.ThrowsAsync<LocalPostgresException>(() => LocalPostgres.StartAsync(options, NullLogger.Instance, CancellationToken.None));

        Assert.Contains("apt-get install postgresql", error.Message, StringComparison.Ordinal);
        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public async Task A_data_folder_that_holds_something_else_is_refused_and_left_untouched()
    {
        var work = Directory.CreateTempSubdirectory("hub-foreign-");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(work.FullName, (UnixFileMode)0b111_101_101);
        }

        try
        {
            var data = Directory.CreateDirectory(Path.Combine(work.FullName, "cluster", "data"));
            var precious = Path.Combine(data.FullName, "precious.txt");
            await File.WriteAllTextAsync(precious, "not a database");
            var options = new LocalPostgresOptions { Directory = Path.Combine(work.FullName, "cluster") };

            var error = await Assert.ThrowsAsync<LocalPostgresException>(() => LocalPostgres.StartAsync(options, NullLogger.Instance, CancellationToken.None));

            Assert.Contains("is not empty but holds no PostgreSQL cluster", error.Message, StringComparison.Ordinal);
            Assert.Equal("not a database", await File.ReadAllTextAsync(precious));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
