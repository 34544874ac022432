using System.Globalization;
using Hub.Contracts;

namespace Hub.Simulator.Generation;

/// <summary>
/// Generates the dossiers of a province and their lifecycles, deterministically from the options. Each dossier has
/// its own random sequence (seeded from the province seed and its index), so dossiers do not depend on each other.
/// </summary>
internal static class ProvinceGenerator
{
    public static readonly TimeSpan Vietnam = TimeSpan.FromHours(7);

    private static readonly TimeSpan OfficeOpens = new(7, 30, 0);
    private static readonly TimeSpan OfficeCloses = new(17, 0, 0);
    private static readonly TimeSpan DueTimeOfDay = new(17, 0, 0);

    private static readonly string[] RefusalReasons =
    [
        "Từ chối tiếp nhận: hồ sơ không đủ thành phần theo quy định",
        "Từ chối tiếp nhận: hồ sơ không thuộc thẩm quyền giải quyết",
        "Từ chối tiếp nhận: thông tin kê khai không khớp với giấy tờ",
    ];

    public static SimDossier[] Generate(ProvinceOptions options, DateTimeOffset start, DateTimeOffset end)
    {
        var agencies = BuildAgencies(options);
        var dossiers = new SimDossier[options.Dossiers];
        for (var i = 0; i < dossiers.Length; i++)
        {
            dossiers[i] = GenerateDossier(options, i, agencies, start, end);
        }

        AssignCodes(dossiers);
        return dossiers;
    }

    private static Dictionary<string, Agency> BuildAgencies(ProvinceOptions options)
    {
        var rng = new Random(Mix.Seed(options.Seed, -1, 2));
        var agencies = new Dictionary<string, Agency>(StringComparer.Ordinal);
        foreach (var (suffix, name, commune) in Catalog.Agencies)
        {
            agencies[suffix] = new Agency(
                $"{options.AgencyPrefix}.{suffix}",
                name,
                commune,
                [new(PersonName(rng), "Cán bộ một cửa"), new(PersonName(rng), "Cán bộ một cửa")],
                [new(PersonName(rng), "Chuyên viên"), new(PersonName(rng), "Chuyên viên"), new(PersonName(rng), "Chuyên viên chính")],
                new(PersonName(rng), commune ? "Công chức Tư pháp - Hộ tịch" : "Trưởng phòng"),
                new(PersonName(rng), commune ? "Phó Chủ tịch UBND" : "Phó Giám đốc Sở"));
        }

        return agencies;
    }

    private static SimDossier GenerateDossier(ProvinceOptions options, int index, Dictionary<string, Agency> agencies, DateTimeOffset start, DateTimeOffset end)
    {
        var rng = new Random(Mix.Seed(options.Seed, index, 1));
        var procedure = Weighted(rng);
        var agency = procedure.Commune
            ? agencies[Catalog.Agencies.Where(a => a.Commune).ElementAt(rng.Next(3)).Suffix]
            : agencies[Catalog.SectorAgency[procedure.SectorCode]];
        var applicantType = ChooseApplicantType(rng, procedure);
        var r = rng.NextDouble();
        var applyMethod = VendorApplyMethods.All[r < 0.55 ? 0 : r < 0.95 ? 1 : 2];
        var paidOnline = procedure.HasFee && applyMethod.Channel == Channel.Online && rng.NextDouble() < 0.7;
        var windowMs = (long)(end - start).TotalMilliseconds;
        var submitted = start.AddMilliseconds(rng.NextInt64(0, windowMs + 1));
        if (options.WholeSecondTimes)
        {
            // Start is whole seconds, so the submission stays inside the window.
            submitted = Seconds(submitted);
        }

        var dossier = new SimDossier
        {
            Index = index,
            Id = ObjectId(submitted, rng, index),
            Procedure = procedure,
            Agency = agency,
            ApplicantType = applicantType,
            ApplyMethod = applyMethod,
            PaidOnline = paidOnline,
            ApplicantName = ApplicantName(rng, applicantType),
            IdentityNumber = IdentityNumber(rng),
            SubmittedAt = submitted,
        };
        BuildRevisions(dossier, Lifecycle(options, dossier, rng, end), rng);
        return dossier;
    }

    /// <summary>The statuses the dossier goes through and when, cut at the end of the window.</summary>
    private static List<(NationalStatus Status, DateTimeOffset At)> Lifecycle(ProvinceOptions options, SimDossier dossier, Random rng, DateTimeOffset end)
    {
        var online = dossier.ApplyMethod.Channel == Channel.Online;
        var rollback = rng.NextDouble() < options.RollbackShare;
        var rolledBack = false;
        var supplements = 0;
        var processingVisits = 0;
        var status = NationalStatus.Submitted;
        var at = dossier.SubmittedAt;
        var events = new List<(NationalStatus, DateTimeOffset)> { (status, at) };
        while (true)
        {
            var r = rng.NextDouble();
            NationalStatus? next = status switch
            {
                NationalStatus.Submitted => r < 0.06 ? NationalStatus.RefusedAtIntake : r < 0.07 ? NationalStatus.Processing : NationalStatus.Received,
                NationalStatus.Received => r < 0.05 ? NationalStatus.Resolved
                    : r < 0.09 ? NationalStatus.SupplementRequested
                    : r < 0.12 ? NationalStatus.FinancialObligationRequired
                    : r < 0.15 ? NationalStatus.WithdrawnByApplicant
                    : NationalStatus.Processing,
                NationalStatus.Processing when processingVisits > 5 => NationalStatus.Resolved,
                NationalStatus.Processing => r < 0.10 && supplements < 2 ? NationalStatus.SupplementRequested
                    : r < 0.17 ? NationalStatus.FinancialObligationRequired
                    : r < 0.21 ? NationalStatus.ProcessingStopped
                    : r < 0.24 ? NationalStatus.WithdrawnByApplicant
                    : NationalStatus.Resolved,
                NationalStatus.SupplementRequested => r < 0.85 ? NationalStatus.Processing : NationalStatus.WithdrawnByApplicant,
                NationalStatus.FinancialObligationRequired => r < 0.9 ? NationalStatus.Processing : NationalStatus.WithdrawnByApplicant,
                NationalStatus.ProcessingStopped => r < 0.7 ? NationalStatus.Processing : null,
                NationalStatus.Resolved => r < 0.95 ? NationalStatus.ResultReturned : null,
                NationalStatus.ResultReturned when rollback && !rolledBack => NationalStatus.Processing,
                _ => null,
            };
            if (next is not { } nextStatus)
            {
                break;
            }

            var t = at + Delay(rng, status, nextStatus, online);
            if (nextStatus != NationalStatus.WithdrawnByApplicant)
            {
                t = OfficeTime(t, rng);
            }

            if (options.WholeSecondTimes)
            {
                // Whole seconds, and at least one second after the previous status, so that every revision of the
                // dossier has its own second (delays are at least a minute, so this only guards the rule).
                t = Seconds(t);
                if (t <= at)
                {
                    t = Seconds(at).AddSeconds(1);
                }
            }

            if (t > end)
            {
                break;
            }

            if (nextStatus == NationalStatus.SupplementRequested)
            {
                supplements++;
            }

            if (nextStatus == NationalStatus.Processing)
            {
                processingVisits++;
                rolledBack |= status == NationalStatus.ResultReturned;
            }

            events.Add((nextStatus, t));
            status = nextStatus;
            at = t;
        }

        return events;
    }

    private static TimeSpan Delay(Random rng, NationalStatus from, NationalStatus to, bool online)
    {
        const int Minute = 60;
        const int Hour = 3600;
        const int Day = 86400;
        var (min, max) = (from, to) switch
        {
            (NationalStatus.Submitted, _) => online ? (10 * Minute, 2 * Day) : (1 * Minute, 15 * Minute),
            (NationalStatus.Received, NationalStatus.Processing) => (5 * Minute, 1 * Day),
            (NationalStatus.Received, NationalStatus.Resolved) => (30 * Minute, 2 * Day),
            (_, NationalStatus.WithdrawnByApplicant) => (1 * Hour, 7 * Day),
            (NationalStatus.Received, _) => (1 * Hour, 2 * Day),
            (NationalStatus.Processing, NationalStatus.Resolved) => (4 * Hour, 10 * Day),
            (NationalStatus.Processing, _) => (1 * Hour, 4 * Day),
            (NationalStatus.SupplementRequested, _) => (1 * Day, 10 * Day),
            (NationalStatus.FinancialObligationRequired, _) => (1 * Hour, 5 * Day),
            (NationalStatus.ProcessingStopped, _) => (1 * Day, 10 * Day),
            (NationalStatus.Resolved, _) => (30 * Minute, 5 * Day),
            (NationalStatus.ResultReturned, _) => (1 * Day, 10 * Day),
            _ => (1 * Hour, 1 * Day),
        };
        var seconds = Math.Exp(Math.Log(min) + (rng.NextDouble() * (Math.Log(max) - Math.Log(min))));
        return TimeSpan.FromMilliseconds(Math.Round(seconds * 1000));
    }

    /// <summary>Officers act in office hours (Monday to Friday, 07:30 to 17:00 Vietnam time); later work waits for the next morning.</summary>
    private static DateTimeOffset OfficeTime(DateTimeOffset t, Random rng)
    {
        var local = t.ToOffset(Vietnam);
        if (IsWorkingDay(local.DayOfWeek) && local.TimeOfDay >= OfficeOpens && local.TimeOfDay < OfficeCloses)
        {
            return t;
        }

        var day = local.TimeOfDay < OfficeOpens ? local.Date : local.Date.AddDays(1);
        while (!IsWorkingDay(day.DayOfWeek))
        {
            day = day.AddDays(1);
        }

        var moved = new DateTimeOffset(day + OfficeOpens, Vietnam).AddMilliseconds(rng.NextInt64(0, 2 * 3600 * 1000));
        return moved.ToUniversalTime();
    }

    private static bool IsWorkingDay(DayOfWeek day) => day is not (DayOfWeek.Saturday or DayOfWeek.Sunday);

    private static DateTimeOffset DueFrom(DateTimeOffset accepted, int workingDays)
    {
        var day = accepted.ToOffset(Vietnam).Date;
        for (var added = 0; added < Math.Max(1, workingDays);)
        {
            day = day.AddDays(1);
            if (IsWorkingDay(day.DayOfWeek))
            {
                added++;
            }
        }

        return new DateTimeOffset(day + DueTimeOfDay, Vietnam).ToUniversalTime();
    }

    /// <summary>Turns the lifecycle into revisions: the header snapshot after each status and the steps that led to it.</summary>
    private static void BuildRevisions(SimDossier dossier, List<(NationalStatus Status, DateTimeOffset At)> events, Random rng)
    {
        DateTimeOffset? accepted = null, appointment = null, completed = null, returned = null, refused = null, pausedSince = null;
        var applied = dossier.SubmittedAt;
        var lastStepEnd = Seconds(dossier.SubmittedAt);
        NationalStatus? previous = null;
        var number = 0;
        foreach (var (status, at) in events)
        {
            switch (status)
            {
                case NationalStatus.Received:
                    accepted = at;
                    appointment = DueFrom(at, dossier.Procedure.WorkingDays);
                    break;
                case NationalStatus.RefusedAtIntake:
                    refused = at;
                    break;
                case NationalStatus.SupplementRequested or NationalStatus.FinancialObligationRequired:
                    pausedSince = at;
                    break;
                case NationalStatus.Processing when previous == NationalStatus.Submitted:
                    // Received and passed on at once: the vendor never reported status 2.
                    accepted = at;
                    appointment = DueFrom(at, dossier.Procedure.WorkingDays);
                    break;
                case NationalStatus.Processing when previous == NationalStatus.ResultReturned:
                    // The returned result was cancelled: processing starts again.
                    completed = null;
                    returned = null;
                    break;
                case NationalStatus.Processing when pausedSince is { } paused && appointment is { } due:
                    // The clock was paused while the applicant answered: the due date moves by whole days.
                    appointment = due.AddDays(Math.Ceiling((at - paused).TotalDays));
                    pausedSince = null;
                    break;
                case NationalStatus.Resolved:
                    completed = at;
                    break;
                case NationalStatus.ResultReturned:
                    returned = at;
                    break;
                default:
                    break;
            }

            var tasks = Tasks(dossier, previous, status, at, lastStepEnd, appointment, rng);
            lastStepEnd = tasks[^1].End;
            dossier.Revisions.Add(new SimRevision
            {
                Dossier = dossier,
                Number = ++number,
                UpdatedAt = at,
                Status = status,
                StatusCurrentTask = CurrentTask(status),
                Applied = applied,
                Accepted = accepted,
                Appointment = appointment,
                Completed = completed,
                Returned = returned,
                Refused = refused,
                Tasks = tasks,
            });
            previous = status;
        }
    }

    /// <summary>
    /// The steps a status change adds. The last one ends at the revision's time (in whole seconds), an earlier one a few
    /// seconds before; revisions are at least a minute apart, so step times are strictly increasing within a dossier and
    /// no two steps share (time, status after, action).
    /// </summary>
    private static SimTask[] Tasks(SimDossier dossier, NationalStatus? from, NationalStatus to, DateTimeOffset at, DateTimeOffset lastStepEnd, DateTimeOffset? due, Random rng)
    {
        var agency = dossier.Agency;
        var desk = agency.DeskOfficers[rng.Next(agency.DeskOfficers.Count)];
        var specialist = agency.Specialists[rng.Next(agency.Specialists.Count)];
        var department = dossier.Procedure.Department;
        var leaderDepartment = agency.Commune ? "Lãnh đạo UBND" : "Ban Giám đốc Sở";
        var end = Seconds(at);
        var earlier = end.AddSeconds(-rng.Next(5, 31));
        var start = lastStepEnd;

        static SimTask Step(Officer officer, string dept, string content, NationalStatus after, DateTimeOffset taskStart, DateTimeOffset taskEnd, TimeSpan allowed) =>
            new(officer.Name, officer.Title, dept, content, after, taskStart, taskEnd, taskStart + allowed);

        var day = TimeSpan.FromDays(1);
        return (from, to) switch
        {
            (null, _) when dossier.ApplyMethod.Channel == Channel.Online =>
                [Step(new(Catalog.SystemAssignee, Catalog.OnlinePortal), Catalog.DeskDepartment, "Nộp hồ sơ trực tuyến", to, end, end, day)],
            (null, _) when dossier.ApplyMethod.Channel == Channel.Postal =>
                [Step(desk, Catalog.DeskDepartment, "Nhận hồ sơ qua dịch vụ bưu chính công ích", to, end, end, day)],
            (null, _) =>
                [Step(desk, Catalog.DeskDepartment, "Nhận hồ sơ trực tiếp, kiểm tra thành phần hồ sơ", to, end, end, day)],
            (_, NationalStatus.Received) =>
                [Step(desk, Catalog.DeskDepartment, "Tiếp nhận hồ sơ, cấp giấy tiếp nhận và hẹn trả kết quả", to, start, end, day)],
            (_, NationalStatus.RefusedAtIntake) =>
                [Step(desk, Catalog.DeskDepartment, RefusalReasons[rng.Next(RefusalReasons.Length)], to, start, end, day)],
            (NationalStatus.Submitted, NationalStatus.Processing) =>
                [Step(desk, Catalog.DeskDepartment, "Tiếp nhận hồ sơ và chuyển phòng chuyên môn xử lý", to, start, end, day)],
            (NationalStatus.Received, NationalStatus.Processing) =>
            [
                Step(desk, Catalog.DeskDepartment, "Chuyển hồ sơ đến phòng chuyên môn", to, start, earlier, day),
                Step(agency.Head, department, "Phân công chuyên viên thụ lý hồ sơ", to, earlier, end, TimeSpan.FromHours(4)),
            ],
            (NationalStatus.SupplementRequested, NationalStatus.Processing) =>
                [Step(desk, Catalog.DeskDepartment, "Tiếp nhận hồ sơ bổ sung, tiếp tục xử lý", to, start, end, day)],
            (NationalStatus.FinancialObligationRequired, NationalStatus.Processing) =>
                [Step(desk, Catalog.DeskDepartment, "Xác nhận hoàn thành nghĩa vụ tài chính", to, start, end, day)],
            (NationalStatus.ProcessingStopped, NationalStatus.Processing) =>
                [Step(agency.Head, department, "Tiếp tục xử lý hồ sơ", to, start, end, day)],
            (NationalStatus.ResultReturned, NationalStatus.Processing) =>
                [Step(agency.Leader, leaderDepartment, "Hủy kết quả đã trả do sai sót, giao xử lý lại", to, start, end, day)],
            (_, NationalStatus.SupplementRequested) =>
                [Step(specialist, department, "Yêu cầu bổ sung, hoàn thiện hồ sơ", to, start, end, TimeSpan.FromDays(15))],
            (_, NationalStatus.FinancialObligationRequired) =>
                [Step(specialist, department, "Thông báo thực hiện nghĩa vụ tài chính", to, start, end, TimeSpan.FromDays(10))],
            (_, NationalStatus.ProcessingStopped) =>
                [Step(agency.Head, department, "Dừng xử lý hồ sơ theo đề nghị của phòng chuyên môn", to, start, end, day)],
            (_, NationalStatus.WithdrawnByApplicant) =>
                [Step(desk, Catalog.DeskDepartment, "Tiếp nhận yêu cầu rút hồ sơ của công dân", to, start, end, day)],
            (NationalStatus.Processing, NationalStatus.Resolved) =>
            [
                Step(specialist, department, "Thẩm định hồ sơ, trình lãnh đạo ký duyệt", NationalStatus.Processing, start, earlier,
                    due is { } d && d > start ? Seconds(d) - start : TimeSpan.FromDays(3)),
                Step(agency.Leader, leaderDepartment, "Phê duyệt, ký kết quả giải quyết", to, earlier, end, day),
            ],
            (_, NationalStatus.Resolved) =>
                [Step(agency.Leader, leaderDepartment, "Phê duyệt, ký kết quả giải quyết", to, start, end, day)],
            (_, NationalStatus.ResultReturned) =>
                [Step(desk, Catalog.DeskDepartment, "Trả kết quả cho công dân", to, start, end, day)],
            _ => [Step(desk, Catalog.DeskDepartment, "Cập nhật trạng thái hồ sơ", to, start, end, day)],
        };
    }

    private static string? CurrentTask(NationalStatus status) => status switch
    {
        NationalStatus.Submitted => "Chờ tiếp nhận hồ sơ",
        NationalStatus.Received => "Chuyển phòng chuyên môn",
        NationalStatus.Processing => "Chuyên viên thẩm định",
        NationalStatus.SupplementRequested => "Chờ công dân bổ sung hồ sơ",
        NationalStatus.FinancialObligationRequired => "Chờ công dân thực hiện nghĩa vụ tài chính",
        NationalStatus.ProcessingStopped => "Tạm dừng xử lý",
        NationalStatus.Resolved => "Chờ trả kết quả",
        _ => null,
    };

    /// <summary>Dossier codes: agency code, submission day (Vietnam time, yyMMdd) and a sequence per agency and day.</summary>
    private static void AssignCodes(SimDossier[] dossiers)
    {
        var groups = dossiers
            .GroupBy(d => (d.Agency.Code, Day: d.SubmittedAt.ToOffset(Vietnam).ToString("yyMMdd", CultureInfo.InvariantCulture)));
        foreach (var group in groups)
        {
            var sequence = 0;
            foreach (var dossier in group.OrderBy(d => d.SubmittedAt).ThenBy(d => d.Index))
            {
                dossier.Code = string.Create(CultureInfo.InvariantCulture, $"{group.Key.Code}-{group.Key.Day}-{++sequence:D4}");
            }
        }
    }

    private static Procedure Weighted(Random rng)
    {
        var total = Catalog.Procedures.Sum(p => p.Weight);
        var pick = rng.Next(total);
        foreach (var (procedure, weight) in Catalog.Procedures)
        {
            if (pick < weight)
            {
                return procedure;
            }

            pick -= weight;
        }

        return Catalog.Procedures[^1].Procedure;
    }

    private static ApplicantType ChooseApplicantType(Random rng, Procedure procedure)
    {
        var r = rng.NextDouble();
        if (procedure.ForBusiness)
        {
            return r < 0.8 ? ApplicantType.Business : r < 0.95 ? ApplicantType.Citizen : ApplicantType.Other;
        }

        return r < 0.94 ? ApplicantType.Citizen : r < 0.98 ? ApplicantType.Other : ApplicantType.StateAgency;
    }

    private static string PersonName(Random rng) =>
        $"{Pick(rng, Catalog.FamilyNames)} {Pick(rng, Catalog.MiddleNames)} {Pick(rng, Catalog.GivenNames)}";

    private static string ApplicantName(Random rng, ApplicantType type) => type switch
    {
        ApplicantType.Business => $"Công ty TNHH {Pick(rng, Catalog.BusinessWords)} {Pick(rng, Catalog.GivenNames)} {Pick(rng, Catalog.GivenNames)}",
        ApplicantType.StateAgency => $"Trường Tiểu học {Pick(rng, Catalog.GivenNames)} {Pick(rng, Catalog.GivenNames)}",
        ApplicantType.Other => $"Hợp tác xã {Pick(rng, Catalog.BusinessWords)} {Pick(rng, Catalog.GivenNames)}",
        _ => PersonName(rng),
    };

    /// <summary>12 digits: birth province (3), century and gender (1), birth year (2), random (6).</summary>
    private static string IdentityNumber(Random rng)
    {
        var year = rng.Next(1950, 2007);
        var centuryGender = (year >= 2000 ? 2 : 0) + rng.Next(2);
        return string.Create(CultureInfo.InvariantCulture, $"{rng.Next(1, 97):D3}{centuryGender}{year % 100:D2}{rng.Next(1_000_000):D6}");
    }

    /// <summary>An id shaped like the vendor's (24 hex digits: seconds, random, counter); the counter keeps it unique.</summary>
    private static string ObjectId(DateTimeOffset submitted, Random rng, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{(uint)submitted.ToUnixTimeSeconds():x8}{rng.NextInt64(1L << 40):x10}{index & 0xFF_FFFF:x6}");

    private static T Pick<T>(Random rng, T[] items) => items[rng.Next(items.Length)];

    private static DateTimeOffset Seconds(DateTimeOffset t) => new(t.UtcTicks - (t.UtcTicks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
}
