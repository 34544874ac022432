using Hub.Core.Delivery;
using Hub.Worker.Api;
using Hub.Worker.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Hub.Worker.Pages.Ui;

/// <summary>
/// One subscription, for operators: its settings (never its configuration: it holds secrets), the count of its
/// deliveries in each state, its dead letters and recent failures, and the replay of every dead letter with a reason,
/// recorded in the exchange log with the signed-in principal as the actor.
/// </summary>
public sealed class SubscriptionModel(SubscriptionCatalog catalog, Deliveries deliveries) : PageModel
{
    /// <summary>The most dead letters listed.</summary>
    public const int MaxDead = 200;

    /// <summary>The most failed deliveries listed.</summary>
    public const int MaxFailed = 50;

    /// <summary>The subscription shown (its configuration is never shown).</summary>
    public SubscriptionState? State { get; private set; }

    /// <summary>How many of its deliveries are in each state.</summary>
    public IReadOnlyDictionary<DeliveryStatus, long> Counts { get; private set; } = new Dictionary<DeliveryStatus, long>();

    /// <summary>Its dead letters, newest first.</summary>
    public IReadOnlyList<DeliveryView> Dead { get; private set; } = [];

    /// <summary>Its failed deliveries waiting for a retry, newest first.</summary>
    public IReadOnlyList<DeliveryView> Failed { get; private set; } = [];

    /// <summary>What the last replay did.</summary>
    [TempData]
    public string? Message { get; set; }

    /// <summary>Why the replay just posted was refused (the form is shown again).</summary>
    public string? ReasonError { get; private set; }

    /// <summary>The reason just posted, shown again with its error.</summary>
    public string? Reason { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    public async Task<IActionResult> OnPostReplayAsync(string id, string? reason, CancellationToken cancellationToken)
    {
        if (await catalog.GetAsync(id, cancellationToken) is null)
        {
            return NotFound();
        }

        var why = reason?.Trim();
        if (string.IsNullOrEmpty(why) || why.Length > Actors.MaxReasonLength || why.Any(char.IsControl))
        {
            (ReasonError, Reason) = ($"Give a reason (1 to {Actors.MaxReasonLength} characters, one line): it is recorded with the replay. Nothing was replayed.", reason);
            await LoadAsync(id, cancellationToken);
            Response.StatusCode = StatusCodes.Status400BadRequest;
            return Page();
        }

        var replayed = await deliveries.ReplayAsync(id, null, HubUser.Of(User)!.Id, why, cancellationToken);
        Message = replayed == 0
            ? "There was no dead letter to replay."
            : $"{replayed} dead letter(s) replayed: back to pending with a fresh retry budget.";
        return RedirectToPage(new { id });
    }

    private async Task<bool> LoadAsync(string id, CancellationToken cancellationToken)
    {
        if (await catalog.GetAsync(id, cancellationToken) is not { } state)
        {
            return false;
        }

        State = state;
        Counts = await deliveries.CountsAsync(id, cancellationToken);
        Dead = await deliveries.ListAsync(id, DeliveryStatus.Dead, null, MaxDead, cancellationToken);
        Failed = await deliveries.ListAsync(id, DeliveryStatus.Failed, null, MaxFailed, cancellationToken);
        return true;
    }
}
