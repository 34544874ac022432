using System.Text.Json;
using Hub.Connectors;
using Hub.Core.Delivery;
using Hub.Core.Sync;
using Hub.Worker.Sync;

namespace Hub.Worker.Subscribers;

/// <summary>
/// Checks a subscription registration field by field, as connector registrations are checked: the id, a subscriber
/// kind, its configuration against the kind's schema and its own checks, the filters and the delivery settings. Every
/// problem is reported at once, with its field; never a secret's value.
/// </summary>
public sealed class SubscriptionValidation(ConnectorKinds kinds, ConnectorValidation connectors)
{
    private static readonly string[] KnownProperties = ["id", "kind", "displayName", "configuration", "filter", "delivery", "resilience", "active"];
    private static readonly string[] FilterProperties = ["agencies", "procedures", "statuses"];

    /// <summary>Longest retry wait a registration may ask for.</summary>
    public static readonly TimeSpan MaxRetryDelayLimit = TimeSpan.FromDays(1);

    /// <summary>Every problem of the registration in <paramref name="body"/>; the registration when there is none.</summary>
    public IReadOnlyList<FieldError> Validate(JsonElement body, out SubscriptionRegistration? registration)
    {
        registration = null;
        var errors = new List<FieldError>();
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new("$", $"the registration is {ConnectorValidation.Describe(body.ValueKind)}", "a JSON object with id, kind, displayName and configuration"));
            return errors;
        }

        foreach (var property in body.EnumerateObject().Where(p => !KnownProperties.Contains(p.Name, StringComparer.Ordinal)))
        {
            errors.Add(new(property.Name, "is not a property of a subscription registration", "only " + string.Join(", ", KnownProperties)));
        }

        var id = ConnectorValidation.RequiredString(body, "id", errors, "the subscription's id: lower-case letters, digits and dashes, 2 to 63 characters, for example portal-h56");
        if (id is not null && !ConnectorValidation.IdPattern().IsMatch(id))
        {
            errors.Add(new("id", $"'{id}' is not a valid subscription id", "lower-case letters, digits and dashes, 2 to 63 characters, starting with a letter or digit"));
        }

        ConnectorValidation.RequiredString(body, "displayName", errors, "a name for people");
        var kindName = ConnectorValidation.RequiredString(body, "kind", errors, "the name of a subscriber kind: " + KindNames());
        var kind = kindName is null ? null : kinds.Find(kindName);
        if (kindName is not null && kind is not ISubscriberConnectorKind)
        {
            errors.Add(new("kind", kind is null ? $"no connector kind is named '{kindName}'" : $"'{kindName}' is not a subscriber kind (it receives from sources)",
                "one of: " + KindNames()));
            kind = null;
        }

        connectors.CheckConfiguration(body, kind, errors);
        CheckFilter(body, errors);

        if (errors.Count == 0)
        {
            try
            {
                registration = body.Deserialize<SubscriptionRegistration>(ConnectorCatalog.Json);

                // "filter": null (or "delivery": null, "resilience": null) means the defaults, as leaving it out does.
                registration = registration! with
                {
                    Filter = registration.Filter ?? new(),
                    Delivery = registration.Delivery ?? new(),
                    Resilience = registration.Resilience ?? new(),
                };
            }
            catch (JsonException e)
            {
                errors.Add(new(ConnectorValidation.JsonPathToField(e.Path), ConnectorValidation.FirstSentence(e.Message),
                    "a value of the type the registration format gives for this field"));
            }
        }

        if (registration is not null)
        {
            CheckDelivery(registration.Delivery, errors);
            if (errors.Count > 0)
            {
                registration = null;
            }
        }

        return errors;
    }

    private string KindNames() =>
        string.Join(", ", kinds.All.OfType<ISubscriberConnectorKind>().Select(k => k.Name).Order(StringComparer.Ordinal));

    private static void CheckFilter(JsonElement body, List<FieldError> errors)
    {
        if (!body.TryGetProperty("filter", out var filter) || filter.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (filter.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new("filter", $"is {ConnectorValidation.Describe(filter.ValueKind)}, not an object", "an object with agencies, procedures and statuses, each a list"));
            return;
        }

        foreach (var property in filter.EnumerateObject())
        {
            var field = "filter." + property.Name;
            if (!FilterProperties.Contains(property.Name, StringComparer.Ordinal))
            {
                errors.Add(new(field, "is not a filter", "only " + string.Join(", ", FilterProperties)));
                continue;
            }

            if (property.Value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (property.Value.ValueKind != JsonValueKind.Array)
            {
                errors.Add(new(field, $"is {ConnectorValidation.Describe(property.Value.ValueKind)}, not a list", "a list; leave it out to let every value through"));
                continue;
            }

            var index = 0;
            foreach (var item in property.Value.EnumerateArray())
            {
                var problem = property.Name == "statuses"
                    ? item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var code) && code is >= 1 and <= 10 ? null : "is not a national status code"
                    : item.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(item.GetString()) ? "is not a non-empty string"
                    : property.Name == "agencies" && !AgencyPattern(item.GetString()!) ? "has '*' elsewhere than at its start or its end, or alone" : null;
                if (problem is not null)
                {
                    errors.Add(new($"{field}[{index}]", problem, property.Name switch
                    {
                        "statuses" => "an integer from 1 to 10 (TrangThaiHoSo)",
                        "agencies" => "an agency code, a prefix ending in '*' or a suffix starting with '*' such as *.H56; leave the filter out for every agency",
                        _ => "a procedure code or national base code",
                    }));
                }

                index++;
            }
        }
    }

    private static bool AgencyPattern(string pattern)
    {
        var stars = pattern.Count(c => c == '*');
        return stars == 0 || (stars == 1 && pattern.Length > 1 && (pattern[0] == '*' || pattern[^1] == '*'));
    }

    private static void CheckDelivery(DeliverySettings delivery, List<FieldError> errors)
    {
        if (delivery.MaxAttempts is < 1 or > 100)
        {
            errors.Add(new("delivery.maxAttempts", $"is {delivery.MaxAttempts}", "from 1 to 100"));
        }

        if (delivery.RetryBaseDelay < TimeSpan.FromMilliseconds(100) || delivery.RetryBaseDelay > TimeSpan.FromHours(1))
        {
            errors.Add(new("delivery.retryBaseDelay", $"is {delivery.RetryBaseDelay}", "from 00:00:00.1 to 01:00:00"));
        }

        if (delivery.MaxRetryDelay < delivery.RetryBaseDelay || delivery.MaxRetryDelay > MaxRetryDelayLimit)
        {
            errors.Add(new("delivery.maxRetryDelay", $"is {delivery.MaxRetryDelay}", "at least retryBaseDelay and at most 1.00:00:00"));
        }

        if (delivery.BatchSize is < 1 or > 1000)
        {
            errors.Add(new("delivery.batchSize", $"is {delivery.BatchSize}", "from 1 to 1000"));
        }
    }
}
