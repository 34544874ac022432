using Hub.Core.Sync;
using Hub.Core.Xml;
using Microsoft.Extensions.Options;

namespace Hub.Worker.Alerts;

/// <summary>
/// Evaluates the alert rules every <see cref="AlertOptions.EvaluationInterval"/>: fires an alert once when its condition
/// starts, resolves it once when it ends, mutes the connectors a maintenance window covers, and delivers what is
/// undelivered to the webhook (docs/decisions/0014).
/// </summary>
public sealed partial class AlertService(
    IServiceProvider services, IOptions<AlertOptions> options, TimeProvider timeProvider, ILogger<AlertService> logger) : BackgroundService
{
    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            // First wait, then evaluate: the database and the signing certificate are loaded by hosted services of their own.
            await Task.Delay(settings.EvaluationInterval, timeProvider, stoppingToken);
            try
            {
                await EvaluateAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The loop must outlive a database hiccup; the failure is logged and the next evaluation tries again.
                LogEvaluationFailed(logger, e);
            }
        }
    }

    /// <summary>One evaluation: fire, resolve, deliver.</summary>
    public async Task EvaluateAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var catalog = services.GetRequiredService<ConnectorCatalog>();
        var ledger = services.GetRequiredService<SyncLedger>();
        var windows = services.GetRequiredService<MaintenanceWindows>();
        var store = services.GetRequiredService<AlertStore>();
        var certificate = services.GetRequiredService<IHubSigningCertificate>().Certificate;

        var now = timeProvider.GetUtcNow();
        var judged = await Freshness.JudgeAllAsync(catalog, ledger, now, cancellationToken);
        var rates = await ledger.QuarantineRatesAsync(now - settings.QuarantineWindow, cancellationToken);
        var conditions = AlertRules.Evaluate(judged, rates, new DateTimeOffset(certificate.NotAfter.ToUniversalTime()), now, settings.CertificateWarning);
        var muted = await windows.CoveredAsync(now, cancellationToken);

        foreach (var condition in conditions.Where(c => !muted.Contains(c.ConnectorId)))
        {
            if (await store.TryFireAsync(condition, now, cancellationToken) is { } fired)
            {
                LogFired(logger, fired.Rule, fired.ConnectorId, fired.State, fired.Message);
            }
        }

        var holding = conditions.Select(c => (c.Rule, c.ConnectorId)).ToHashSet();
        foreach (var open in await store.OpenAsync(cancellationToken))
        {
            if (!holding.Contains((open.Rule, open.ConnectorId)) && !muted.Contains(open.ConnectorId)
                && await store.TryResolveAsync(open.Id, now, cancellationToken) is { } resolved)
            {
                LogResolved(logger, resolved.Rule, resolved.ConnectorId);
            }
        }

        if (settings.WebhookUrl is null)
        {
            return;
        }

        var delivery = services.GetRequiredService<AlertDelivery>();
        foreach (var id in await store.UndeliveredAsync(cancellationToken))
        {
            await store.DeliverAsync(id, async (alert, resolved) =>
            {
                var failure = await delivery.PostAsync(alert, resolved, cancellationToken);
                if (failure is not null)
                {
                    LogDeliveryFailed(logger, alert.Rule, alert.ConnectorId, resolved, failure);
                }

                return failure;
            }, timeProvider.GetUtcNow(), cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {Rule} fired for connector '{ConnectorId}' ({State}): {Message}")]
    private static partial void LogFired(ILogger logger, string rule, string connectorId, string state, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Alert {Rule} for connector '{ConnectorId}' is resolved")]
    private static partial void LogResolved(ILogger logger, string rule, string connectorId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {Rule} for connector '{ConnectorId}' (resolved: {Resolved}) was not delivered, retried at the next evaluation: {Failure}")]
    private static partial void LogDeliveryFailed(ILogger logger, string rule, string connectorId, bool resolved, string failure);

    [LoggerMessage(Level = LogLevel.Error, Message = "Evaluating the alert rules failed; trying again at the next interval")]
    private static partial void LogEvaluationFailed(ILogger logger, Exception exception);
}
