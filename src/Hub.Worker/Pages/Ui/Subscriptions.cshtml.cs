using Hub.Core.Delivery;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Hub.Worker.Pages.Ui;

/// <summary>
/// Every subscription, for operators: its kind, whether it is active, its filters and how many of its deliveries are in
/// each state; never its configuration (it holds secrets).
/// </summary>
public sealed class SubscriptionsModel(SubscriptionCatalog catalog, Deliveries deliveries) : PageModel
{
    /// <summary>A subscription and the count of its deliveries in each state.</summary>
    public sealed record Row(SubscriptionRegistration Registration, IReadOnlyDictionary<DeliveryStatus, long> Counts);

    /// <summary>The subscriptions, by id.</summary>
    public IReadOnlyList<Row> Rows { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var rows = new List<Row>();
        foreach (var state in await catalog.ListAsync(cancellationToken))
        {
            rows.Add(new Row(state.Registration, await deliveries.CountsAsync(state.Registration.Id, cancellationToken)));
        }

        Rows = [.. rows.OrderBy(r => r.Registration.Id, StringComparer.Ordinal)];
    }

    /// <summary>A filter list as shown: its values, or "any" when it lets every value through.</summary>
    public static string Shown<T>(IReadOnlyList<T>? values, Func<T, string> name) =>
        values is { Count: > 0 } ? string.Join(", ", values.Select(name)) : "any";
}
