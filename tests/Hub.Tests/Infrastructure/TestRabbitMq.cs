using Hub.Simulator.Broker;

namespace Hub.Tests.Infrastructure;

/// <summary>A virtual host of the test node, with a user of its own (random password) allowed everything in it.</summary>
public sealed record TestBroker(string Host, int Port, string VirtualHost, string Username, string Password)
{
    /// <summary>The settings of a hub process on this database that publishes its outbox to this virtual host.</summary>
    public Dictionary<string, string> HubSettings(Npgsql.NpgsqlDataSource db) => new()
    {
        ["ConnectionStrings__Hub"] = db.ConnectionString,
        ["Hub__Bus__DispatchInterval"] = "00:00:00.200",
        ["Hub__Bus__Transport"] = "RabbitMq",
        ["Hub__Bus__RabbitMq__Host"] = Host,
        ["Hub__Bus__RabbitMq__Port"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Hub__Bus__RabbitMq__VirtualHost"] = VirtualHost,
        ["Hub__Bus__RabbitMq__Username"] = Username,
        ["Hub__Bus__RabbitMq__Password"] = Password,
    };
}

/// <summary>
/// One throwaway RabbitMQ node for the whole test run (<see cref="LocalRabbitMq"/>: the machine's
/// <c>rabbitmq-server</c>, Debian's package installed by scripts/test, in a temporary folder on free loopback ports,
/// stopped and removed by a watchdog once the test process has ended), and a virtual host of its own for each test.
/// RabbitMQ missing or not starting fails the test that needs it, with the reason.
/// </summary>
public static class TestRabbitMq
{
    private static readonly Lazy<Task<LocalRabbitMq>> Shared = new(() => LocalRabbitMq.StartAsync("hub-rabbitmq-", TimeSpan.FromSeconds(90)));

    /// <summary>How long the shared node took to accept AMQP connections, once it has.</summary>
    public static TimeSpan? StartedIn => Shared.IsValueCreated && Shared.Value.IsCompletedSuccessfully ? Shared.Value.Result.StartedIn : null;

    /// <summary>A new virtual host and user on the shared node (started on first use), for one test.</summary>
    public static async Task<TestBroker> CreateVirtualHostAsync(string name)
    {
        var node = await Shared.Value;
        var account = await node.CreateVirtualHostAsync(name);
        return new TestBroker(account.Host, account.Port, account.VirtualHost, account.Username, account.Password);
    }

    /// <summary>A loopback port nothing listens on (a broker that is down).</summary>
    public static int UnusedPort() => LocalRabbitMq.FreePort();
}
