using Hub.Contracts;
using Hub.Core.Store;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Hub.Tests.Infrastructure;

/// <summary>Builders of realistic change sets for store tests.</summary>
public static class Changes
{
    public static readonly DateTimeOffset T0 = new(2025, 11, 17, 8, 0, 0, TimeSpan.FromHours(7));

    public static StatusStore Store(NpgsqlDataSource dataSource) => new(dataSource, TimeProvider.System, NullLogger<StatusStore>.Instance);

    public static DossierChange Change(string system, string id, int minutes, NationalStatus status, long? version = null, int dueDays = 3) => new()
    {
        SourceSystem = system,
        NativeId = id,
        DossierCode = $"{system}-{id}",
        EventTime = T0.AddMinutes(minutes),
        SourceVersion = version,
        Status = status,
        SourceStatus = $"S{(int)status}",
        MappingVersion = "v1",
        ProcedureCode = "1.001612.000.00.00.H56",
        ProcedureBaseCode = "1.001612",
        AgencyCode = "000.00.15.H56",
        Channel = Channel.Online,
        ApplicantType = ApplicantType.Citizen,
        SubmittedAt = T0.AddMinutes(-30),
        ReceivedAt = T0,
        DueAt = T0.AddDays(dueDays),
    };

    public static DossierStep Step(string system, string id, int minutes, NationalStatus status, string action, string officer = "Officer A") => new()
    {
        SourceSystem = system,
        NativeId = id,
        StepTime = T0.AddMinutes(minutes),
        StatusAfter = status,
        Action = action,
        Officer = officer,
        Department = "Bộ phận Một cửa",
        Deadline = T0.AddDays(1),
    };

    /// <summary>
    /// A varied change set over a few dossiers: forward progress, skipped states, a 10→4 rollback, due-date moves,
    /// equal event times told apart by source version, equal event times with neither (hash decides), steps resent
    /// with other details.
    /// </summary>
    public static ChangeBatch Varied(Random random, int dossiers = 8)
    {
        var changes = new List<DossierChange>();
        var steps = new List<DossierStep>();
        NationalStatus[][] paths =
        [
            [NationalStatus.Submitted, NationalStatus.Received, NationalStatus.Processing, NationalStatus.Resolved, NationalStatus.ResultReturned],
            [NationalStatus.Received, NationalStatus.Processing, NationalStatus.SupplementRequested, NationalStatus.Processing, NationalStatus.Resolved],
            [NationalStatus.Received, NationalStatus.Resolved, NationalStatus.ResultReturned, NationalStatus.Processing, NationalStatus.Resolved],
            [NationalStatus.Submitted, NationalStatus.Processing, NationalStatus.ProcessingStopped, NationalStatus.Processing],
        ];
        for (var d = 0; d < dossiers; d++)
        {
            var system = d % 2 == 0 ? "H56" : "G09";
            var id = $"D{d:000}";
            var path = paths[d % paths.Length];
            var minute = 0;
            for (var i = 0; i < path.Length; i++)
            {
                minute += random.Next(1, 600);
                var dueDays = i >= 2 && d % 3 == 0 ? 5 : 3; // some dossiers get their due date moved
                changes.Add(Change(system, id, minute, path[i], dueDays: dueDays));
                steps.Add(Step(system, id, minute, path[i], $"Step {i}"));
                if (random.Next(4) == 0)
                {
                    // The same step resent with another officer: same natural key, other details.
                    steps.Add(Step(system, id, minute, path[i], $"Step {i}", officer: "Officer B"));
                }
            }

            // Two changes at the same event time: the source version decides.
            changes.Add(Change(system, id, minute + 1, NationalStatus.Processing, version: 1));
            changes.Add(Change(system, id, minute + 1, NationalStatus.Resolved, version: 2));
            if (d % 2 == 1)
            {
                // Two changes at the same time with no version: the content hash decides, the same way every time.
                changes.Add(Change(system, id, minute + 2, NationalStatus.Processing) with { SourceStatus = "X1" });
                changes.Add(Change(system, id, minute + 2, NationalStatus.Processing) with { SourceStatus = "X2" });
            }
        }

        return new ChangeBatch { Dossiers = changes, Steps = steps };
    }

    public static List<T> Shuffle<T>(IEnumerable<T> items, Random random)
    {
        var list = items.ToList();
        for (var i = list.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }

        return list;
    }
}
