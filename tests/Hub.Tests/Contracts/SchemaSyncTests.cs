using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hub.Contracts;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Hub.Tests.Contracts;

/// <summary>
/// Keeps contracts/schemas/*.schema.json in step with the contract records: same properties (camelCase, as
/// System.Text.Json web defaults write them), same required members, same nullability and JSON types, and a
/// serialised record validates against its schema.
/// </summary>
public class SchemaSyncTests
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static readonly DateTimeOffset At = new(2025, 11, 17, 9, 30, 40, TimeSpan.FromHours(7));

    private static readonly Dictionary<string, Type> RecordsBySchema = new()
    {
        ["dossier-change.schema.json"] = typeof(DossierChange),
        ["dossier-step.schema.json"] = typeof(DossierStep),
        ["change-batch.schema.json"] = typeof(ChangeBatch),
        ["dossier-status-changed.schema.json"] = typeof(DossierStatusChanged),
        ["dossier-step-added.schema.json"] = typeof(DossierStepAdded),
    };

    public static TheoryData<string> SchemaFiles => [.. RecordsBySchema.Keys];

    public static TheoryData<string, string> RequiredProperties
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var (file, type) in RecordsBySchema)
            {
                foreach (var property in PublicProperties(type).Where(IsRequiredMember))
                {
                    data.Add(file, JsonName(property));
                }
            }

            return data;
        }
    }

    public static TheoryData<string, string> NonNullableProperties
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var (file, type) in RecordsBySchema)
            {
                foreach (var property in PublicProperties(type).Where(p => !IsNullable(p)))
                {
                    data.Add(file, JsonName(property));
                }
            }

            return data;
        }
    }

    [Fact]
    public void Every_schema_file_has_a_record_and_every_message_record_a_schema()
    {
        var files = Directory.GetFiles(SchemaDirectory, "*.schema.json").Select(Path.GetFileName).Order().ToList();

        Assert.Equal(RecordsBySchema.Keys.Order(), files);
    }

    [Theory]
    [MemberData(nameof(SchemaFiles))]
    public async Task Schema_properties_are_the_record_properties(string file)
    {
        var type = RecordsBySchema[file];
        var schema = await Load(file);

        var recordNames = PublicProperties(type).Select(JsonName).ToHashSet();
        var schemaNames = schema.Properties.Keys.ToHashSet();

        var missingInSchema = recordNames.Except(schemaNames).Order().ToList();
        var unknownToRecord = schemaNames.Except(recordNames).Order().ToList();
        Assert.True(
            missingInSchema.Count == 0 && unknownToRecord.Count == 0,
            $"{type.Name} and {file} are out of step. In the record but not the schema: [{string.Join(", ", missingInSchema)}]; " +
            $"in the schema but not the record: [{string.Join(", ", unknownToRecord)}]");
        Assert.False(schema.AllowAdditionalProperties, $"{file} must set additionalProperties to false");
    }

    [Theory]
    [MemberData(nameof(SchemaFiles))]
    public async Task Schema_required_list_is_the_record_required_members(string file)
    {
        var type = RecordsBySchema[file];
        var schema = await Load(file);

        var recordRequired = PublicProperties(type).Where(IsRequiredMember).Select(JsonName).Order().ToList();
        var schemaRequired = schema.RequiredProperties.Order().ToList();

        Assert.True(
            recordRequired.SequenceEqual(schemaRequired),
            $"{type.Name} and {file} disagree on required properties. Required in the record: [{string.Join(", ", recordRequired)}]; " +
            $"required in the schema: [{string.Join(", ", schemaRequired)}]");
    }

    [Theory]
    [MemberData(nameof(SchemaFiles))]
    public async Task Schema_types_and_nullability_match_the_record(string file)
    {
        var type = RecordsBySchema[file];
        var schema = await Load(file);

        var problems = new List<string>();
        foreach (var property in PublicProperties(type))
        {
            if (schema.Properties.TryGetValue(JsonName(property), out var schemaProperty))
            {
                problems.AddRange(Compare(type, property, schemaProperty));
            }
        }

        Assert.True(problems.Count == 0, $"{file} is out of step with {type.Name}:{Environment.NewLine}{string.Join(Environment.NewLine, problems)}");
    }

    [Theory]
    [MemberData(nameof(SchemaFiles))]
    public async Task Fully_populated_record_validates_against_its_schema(string file)
    {
        var type = RecordsBySchema[file];
        var sample = Sample(type);
        var unset = PublicProperties(type).Where(p => p.GetValue(sample) is null).Select(p => p.Name).ToList();
        Assert.True(unset.Count == 0, $"The {type.Name} sample of this test must set every property; unset: {string.Join(", ", unset)}");

        var errors = (await Load(file)).Validate(JsonSerializer.Serialize(sample, type, Web));

        Assert.True(errors.Count == 0, $"{type.Name} does not validate against {file}: {Describe(errors)}");
    }

    [Theory]
    [MemberData(nameof(SchemaFiles))]
    public async Task Record_with_only_required_members_and_nulls_validates(string file)
    {
        var type = RecordsBySchema[file];
        var minimal = Minimal(type);

        var errors = (await Load(file)).Validate(JsonSerializer.Serialize(minimal, type, Web));

        Assert.True(errors.Count == 0, $"A minimal {type.Name} does not validate against {file}: {Describe(errors)}");
    }

    [Theory]
    [MemberData(nameof(SchemaFiles))]
    public async Task Extra_property_does_not_validate(string file)
    {
        var json = SampleJson(file);
        json["maHoSo"] = "G09.20-20260609-0092637";

        var errors = (await Load(file)).Validate(json.ToJsonString());

        Assert.Contains(errors, e => e.Kind == ValidationErrorKind.NoAdditionalPropertiesAllowed && e.Property == "maHoSo");
    }

    [Theory]
    [MemberData(nameof(RequiredProperties))]
    public async Task Missing_required_property_does_not_validate(string file, string property)
    {
        var json = SampleJson(file);
        Assert.True(json.Remove(property), $"The sample has no {property}");

        var errors = (await Load(file)).Validate(json.ToJsonString());

        Assert.Contains(errors, e => e.Kind == ValidationErrorKind.PropertyRequired && e.Property == property);
    }

    [Theory]
    [MemberData(nameof(NonNullableProperties))]
    public async Task Null_in_a_non_nullable_property_does_not_validate(string file, string property)
    {
        var json = SampleJson(file);
        json[property] = null;

        var errors = (await Load(file)).Validate(json.ToJsonString());

        Assert.True(errors.Count > 0, $"{file} accepts null for {property}, which the record does not allow");
    }

    [Fact]
    public async Task Batch_validates_its_items_against_their_schemas()
    {
        var json = SampleJson("change-batch.schema.json");
        json["dossiers"]![0]!.AsObject().Remove("dossierCode");
        json["steps"]![0]!["statusAfter"] = 0;

        var errors = (await Load("change-batch.schema.json")).Validate(json.ToJsonString());

        var flattened = Flatten(errors).ToList();
        Assert.Contains(flattened, e => e.Kind == ValidationErrorKind.PropertyRequired && e.Property == "dossierCode");
        Assert.Contains(flattened, e => e.Property == "statusAfter");
    }

    [Fact]
    public async Task Events_validate_the_change_and_step_they_carry_against_their_schemas()
    {
        var changed = SampleJson("dossier-status-changed.schema.json");
        changed["change"]!["status"] = 11;
        var added = SampleJson("dossier-step-added.schema.json");
        added["step"]!.AsObject().Remove("stepTime");

        var changedErrors = Flatten((await Load("dossier-status-changed.schema.json")).Validate(changed.ToJsonString())).ToList();
        var addedErrors = Flatten((await Load("dossier-step-added.schema.json")).Validate(added.ToJsonString())).ToList();

        Assert.Contains(changedErrors, e => e.Property == "status");
        Assert.Contains(addedErrors, e => e.Kind == ValidationErrorKind.PropertyRequired && e.Property == "stepTime");
    }

    [Fact]
    public async Task Status_outside_the_national_codes_does_not_validate()
    {
        var json = SampleJson("dossier-change.schema.json");
        json["status"] = 11;

        var errors = (await Load("dossier-change.schema.json")).Validate(json.ToJsonString());

        Assert.Contains(errors, e => e.Property == "status");
    }

    [Fact]
    public async Task Date_that_is_not_iso_8601_does_not_validate()
    {
        var json = SampleJson("dossier-step.schema.json");
        json["stepTime"] = "20251117093040";

        var errors = (await Load("dossier-step.schema.json")).Validate(json.ToJsonString());

        Assert.Contains(errors, e => e.Property == "stepTime");
    }

    private static string SchemaDirectory => Path.Combine(AppContext.BaseDirectory, "schemas");

    private static Task<JsonSchema> Load(string file) => JsonSchema.FromFileAsync(Path.Combine(SchemaDirectory, file));

    private static IEnumerable<PropertyInfo> PublicProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract");

    private static string JsonName(PropertyInfo property) => Web.PropertyNamingPolicy!.ConvertName(property.Name);

    private static bool IsRequiredMember(PropertyInfo property) => property.IsDefined(typeof(RequiredMemberAttribute), inherit: false);

    private static bool IsNullable(PropertyInfo property) =>
        property.PropertyType.IsValueType
            ? Nullable.GetUnderlyingType(property.PropertyType) is not null
            : new NullabilityInfoContext().Create(property).ReadState == NullabilityState.Nullable;

    private static IEnumerable<string> Compare(Type record, PropertyInfo property, JsonSchemaProperty schemaProperty)
    {
        var name = $"{record.Name}.{property.Name} (\"{JsonName(property)}\")";
        var recordNullable = IsNullable(property);
        var schemaNullable = schemaProperty.Type.HasFlag(JsonObjectType.Null);
        if (recordNullable != schemaNullable)
        {
            yield return $"{name}: the record is {(recordNullable ? "" : "not ")}nullable, the schema is {(schemaNullable ? "" : "not ")}nullable";
        }

        var clrType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (RecordsBySchema.ContainsValue(clrType))
        {
            // A contract record inside another: the property refers to that record's schema.
            if (schemaProperty.ActualSchema.Title != clrType.Name)
            {
                yield return $"{name}: must refer to the schema of {clrType.Name}";
            }

            yield break;
        }

        var (jsonType, format) = ExpectedJsonType(clrType);
        var schemaType = schemaProperty.Type & ~JsonObjectType.Null;
        if (jsonType != schemaType)
        {
            yield return $"{name}: the record serialises as {jsonType}, the schema says {schemaType}";
        }

        if (format != schemaProperty.Format)
        {
            yield return $"{name}: expected format '{format ?? "(none)"}', the schema says '{schemaProperty.Format ?? "(none)"}'";
        }

        if (clrType.IsEnum)
        {
            var recordCodes = Enum.GetValuesAsUnderlyingType(clrType).Cast<object>().Select(v => Convert.ToInt64(v, CultureInfo.InvariantCulture)).Order().ToList();
            var schemaCodes = schemaProperty.Enumeration.Where(v => v is not null).Select(v => Convert.ToInt64(v, CultureInfo.InvariantCulture)).Order().ToList();
            if (!recordCodes.SequenceEqual(schemaCodes))
            {
                yield return $"{name}: the enum codes are [{string.Join(", ", recordCodes)}], the schema lists [{string.Join(", ", schemaCodes)}]";
            }

            if (schemaNullable && !schemaProperty.Enumeration.Contains(null))
            {
                yield return $"{name}: the property is nullable but the schema's enum does not list null";
            }
        }

        if (jsonType == JsonObjectType.Array)
        {
            var elementType = clrType.GetGenericArguments().Single();
            var itemFile = RecordsBySchema.SingleOrDefault(kv => kv.Value == elementType).Key;
            if (itemFile is null || schemaProperty.Item?.ActualSchema.Title != elementType.Name)
            {
                yield return $"{name}: the items must refer to the schema of {elementType.Name}";
            }
        }
    }

    private static (JsonObjectType Type, string? Format) ExpectedJsonType(Type clrType) => clrType switch
    {
        _ when clrType == typeof(string) => (JsonObjectType.String, null),
        _ when clrType == typeof(DateTimeOffset) => (JsonObjectType.String, "date-time"),
        _ when clrType == typeof(bool) => (JsonObjectType.Boolean, null),
        _ when clrType == typeof(Guid) => (JsonObjectType.String, "uuid"),
        _ when clrType.IsEnum || clrType == typeof(int) || clrType == typeof(long) => (JsonObjectType.Integer, null),
        _ when clrType.IsGenericType && clrType.GetGenericTypeDefinition() == typeof(IReadOnlyList<>) => (JsonObjectType.Array, null),
        _ => throw new NotSupportedException($"No JSON type known for {clrType}; extend this test when a contract uses it."),
    };

    private static object Sample(Type type) => type switch
    {
        _ when type == typeof(DossierChange) => SampleChange(),
        _ when type == typeof(DossierStep) => SampleStep(),
        _ when type == typeof(ChangeBatch) => new ChangeBatch { Dossiers = [SampleChange()], Steps = [SampleStep()] },
        _ when type == typeof(DossierStatusChanged) => new DossierStatusChanged { EventId = Guid.NewGuid(), Change = SampleChange(), Current = true, StoredAt = At },
        _ when type == typeof(DossierStepAdded) => new DossierStepAdded { EventId = Guid.NewGuid(), DossierCode = "H56.14-251118-0107", Step = SampleStep(), StoredAt = At },
        _ => throw new NotSupportedException(type.Name),
    };

    private static object Minimal(Type type) => type switch
    {
        _ when type == typeof(DossierChange) => new DossierChange
        {
            SourceSystem = "h56-vnpt",
            NativeId = "6571f0c2b1e4a93d2c18f0a1",
            DossierCode = "H56.14-251118-0107",
            EventTime = At,
            Status = NationalStatus.Received,
        },
        _ when type == typeof(DossierStep) => new DossierStep { SourceSystem = "h56-vnpt", NativeId = "6571f0c2b1e4a93d2c18f0a1", StepTime = At },
        _ when type == typeof(ChangeBatch) => new ChangeBatch(),
        _ when type == typeof(DossierStatusChanged) => new DossierStatusChanged
        {
            EventId = Guid.NewGuid(), Change = (DossierChange)Minimal(typeof(DossierChange)), Current = false, StoredAt = At,
        },
        _ when type == typeof(DossierStepAdded) => new DossierStepAdded
        {
            EventId = Guid.NewGuid(), DossierCode = "H56.14-251118-0107", Step = (DossierStep)Minimal(typeof(DossierStep)), StoredAt = At,
        },
        _ => throw new NotSupportedException(type.Name),
    };

    private static JsonObject SampleJson(string file)
    {
        var type = RecordsBySchema[file];
        return JsonSerializer.SerializeToNode(Sample(type), type, Web)!.AsObject();
    }

    private static DossierChange SampleChange() => new()
    {
        SourceSystem = "h56-vnpt",
        NativeId = "6571f0c2b1e4a93d2c18f0a1",
        DossierCode = "H56.14-251118-0107",
        EventTime = At.AddHours(5),
        SourceVersion = 7,
        ProcedureCode = "1.001612.000.00.00.H56",
        ProcedureBaseCode = "1.001612",
        ProcedureName = "Đăng ký thành lập hộ kinh doanh",
        SectorCode = "G15-KH01",
        AgencyCode = "H56.14",
        HandlingUnit = "Phòng Tài chính - Kế hoạch",
        ApplicantType = ApplicantType.Citizen,
        Channel = Channel.Online,
        PaidOnline = true,
        SubmittedAt = At.AddHours(-1),
        ReceivedAt = At,
        DueAt = At.AddDays(3),
        ProcessingFinishedAt = At.AddDays(2),
        ResultReturnedAt = At.AddDays(2).AddHours(2),
        RefusedAt = At.AddMinutes(5),
        Status = NationalStatus.ResultReturned,
        SourceStatus = "Đã trả kết quả",
        MappingVersion = "h56-vnpt@3",
    };

    private static DossierStep SampleStep() => new()
    {
        SourceSystem = "h56-vnpt",
        NativeId = "6571f0c2b1e4a93d2c18f0a1",
        StepTime = At.AddHours(4).AddTicks(1_234_567),
        Officer = "Trần Quốc Bảo",
        OfficerTitle = "Chuyên viên",
        Department = "Phòng Tài chính - Kế hoạch",
        Action = "Thẩm định hồ sơ",
        StatusAfter = NationalStatus.Processing,
        StartedAt = At.AddHours(4),
        Deadline = At.AddDays(2),
    };

    private static IEnumerable<ValidationError> Flatten(IEnumerable<ValidationError> errors) =>
        errors.SelectMany(e => e is ChildSchemaValidationError child
            ? Flatten(child.Errors.SelectMany(kv => kv.Value)).Prepend(e)
            : [e]);

    private static string Describe(ICollection<ValidationError> errors) =>
        string.Join("; ", Flatten(errors).Select(e => $"{e.Path}: {e.Kind}"));
}
