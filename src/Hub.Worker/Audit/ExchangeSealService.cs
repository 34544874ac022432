using Hub.Core.Audit;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Audit;

/// <summary>The exchange log's settings (<c>Hub:Audit</c>).</summary>
public sealed class ExchangeLogOptions
{
    public const string Section = "Hub:Audit";

    /// <summary>How often entries are sealed into a signed checkpoint (when there are new ones).</summary>
    public TimeSpan SealInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The log's name in its checkpoints.</summary>
    public string Origin { get; set; } = ExchangeSealer.DefaultOrigin;
}

/// <summary>Seals the exchange log every <see cref="ExchangeLogOptions.SealInterval"/>, and once more when the hub stops.</summary>
public sealed partial class ExchangeSealService(IServiceProvider services, IOptions<ExchangeLogOptions> options, ILogger<ExchangeSealService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sealer = services.GetRequiredService<ExchangeSealer>();
        using var timer = new PeriodicTimer(options.Value.SealInterval);
        try
        {
            do
            {
                await SealAsync(sealer, stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        using var last = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await SealAsync(sealer, last.Token);
    }

    private async Task SealAsync(ExchangeSealer sealer, CancellationToken cancellationToken)
    {
        try
        {
            await sealer.SealAsync(evenIfEmpty: false, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(logger, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sealing the exchange log failed; entries stay queued for the next seal")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
