using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Hub.Connectors.BuiltIn.RestPull;

/// <summary>A rest-pull connector's configuration, read and checked. See <c>rest-pull.schema.json</c> for its JSON form.</summary>
internal sealed partial record RestPullSettings(
    Uri BaseUrl,
    Uri DataUrl,
    JsonPath ItemsPath,
    int PageSize,
    IReadOnlyDictionary<string, string> Query,
    IReadOnlyDictionary<string, string> Headers,
    AuthSettings Auth,
    PagingSettings Paging,
    CursorSettings? Cursor)
{
    public const int DefaultPageSize = 500;
    public const int MaxPageSize = 10_000;
    public const string DefaultCursorFormat = "yyyy-MM-dd'T'HH:mm:ss.fffzzz";

    /// <summary>Vietnam time: the zone of the provincial systems, used when a source writes times without offset.</summary>
    public const string DefaultTimeZone = "+07:00";

    public static readonly TimeSpan MaxLookback = TimeSpan.FromDays(7);

    /// <summary>Reads a configuration, or throws a <see cref="ConnectorException"/> that lists every problem found.</summary>
    /// <remarks>Messages name the setting and the rule it breaks, never the value: some settings are secrets.</remarks>
    public static RestPullSettings Parse(JsonElement configuration)
    {
        var read = new Reader();
        var settings = Read(read, configuration);
        if (read.Problems.Count > 0 || settings is null)
        {
            throw new ConnectorException(
                FailureSide.Configuration,
                retryable: false,
                $"The rest-pull configuration has {read.Problems.Count} problem(s):{Environment.NewLine}- "
                    + string.Join(Environment.NewLine + "- ", read.Problems));
        }

        return settings;
    }

    private static RestPullSettings? Read(Reader read, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            read.Problem("(root)", $"must be a JSON object, not {Describe(root.ValueKind)}");
            return null;
        }

        read.OnlyKnown(root, "", "baseUrl", "path", "itemsPath", "pageSize", "query", "headers", "auth", "paging", "cursor");

        var baseUrl = read.AbsoluteHttpUrl(root, "", "baseUrl");
        Uri? dataUrl = null;
        var path = read.String(root, "", "path", required: true);
        if (path is not null)
        {
            if (path.Contains('?', StringComparison.Ordinal) || path.Contains('#', StringComparison.Ordinal))
            {
                read.Problem("path", "must be a path without query string: put fixed parameters in 'query'");
            }
            else if (Uri.TryCreate(path, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https")
            {
                read.Problem("path", "must be a path relative to baseUrl, not an absolute URL");
            }
            else if (baseUrl is not null)
            {
                dataUrl = Join(baseUrl, path);
            }
        }

        var itemsPath = read.Path(root, "", "itemsPath", required: true, fallback: null);
        var pageSize = read.Integer(root, "", "pageSize", DefaultPageSize, 1, MaxPageSize);
        var query = read.StringMap(root, "", "query", headerNames: false);
        var headers = read.StringMap(root, "", "headers", headerNames: true);
        var auth = ReadAuth(read, root, baseUrl);
        var paging = ReadPaging(read, root);
        var cursor = ReadCursor(read, root);

        CheckParameterNames(read, query, auth, paging, cursor);

        if (baseUrl is null || dataUrl is null || itemsPath is null || auth is null || paging is null || read.Problems.Count > 0)
        {
            return null;
        }

        return new RestPullSettings(baseUrl, dataUrl, itemsPath, pageSize, query, headers, auth, paging, cursor);
    }

    private static AuthSettings? ReadAuth(Reader read, JsonElement root, Uri? baseUrl)
    {
        var auth = read.Object(root, "", "auth", required: false);
        if (auth is not { } a)
        {
            return new NoAuth();
        }

        const string at = "auth";
        var type = read.String(a, at, "type", required: true);
        switch (type)
        {
            case null:
                return null;
            case "none":
                read.OnlyKnown(a, at, "type");
                return new NoAuth();
            case "apiKey":
            {
                read.OnlyKnown(a, at, "type", "header", "key");
                var header = read.HeaderName(a, at, "header", required: false, fallback: "X-API-Key");
                var key = read.String(a, at, "key", required: true);
                return header is null || key is null ? null : new ApiKeyAuth(header, key);
            }

            case "oauth2ClientCredentials":
            {
                read.OnlyKnown(a, at, "type", "tokenUrl", "clientId", "clientSecret", "scope");
                var tokenUrl = read.HttpUrl(a, at, "tokenUrl", baseUrl);
                var clientId = read.String(a, at, "clientId", required: true);
                var clientSecret = read.String(a, at, "clientSecret", required: true);
                var scope = read.String(a, at, "scope", required: false);
                return tokenUrl is null || clientId is null || clientSecret is null
                    ? null
                    : new OAuth2ClientCredentialsAuth(tokenUrl, clientId, clientSecret, scope);
            }

            case "sessionLogin":
            {
                read.OnlyKnown(a, at, "type", "loginUrl", "username", "password", "tokenPath", "usernameField", "passwordField", "tokenHeader", "tokenQuery");
                var loginUrl = read.HttpUrl(a, at, "loginUrl", baseUrl);
                var username = read.String(a, at, "username", required: true);
                var password = read.String(a, at, "password", required: true);
                var tokenPath = read.Path(a, at, "tokenPath", required: false, fallback: "session");
                var usernameField = read.String(a, at, "usernameField", required: false, fallback: "username");
                var passwordField = read.String(a, at, "passwordField", required: false, fallback: "password");
                var tokenHeader = read.HeaderName(a, at, "tokenHeader", required: false, fallback: null);
                var tokenQuery = read.String(a, at, "tokenQuery", required: false);
                if (tokenHeader is not null && tokenQuery is not null)
                {
                    read.Problem("auth", "set at most one of 'tokenHeader' and 'tokenQuery'");
                }

                return loginUrl is null || username is null || password is null || tokenPath is null || usernameField is null || passwordField is null
                    ? null
                    : new SessionLoginAuth(loginUrl, username, password, tokenPath, usernameField, passwordField, tokenHeader, tokenQuery);
            }

            default:
                read.Problem("auth.type", "must be one of 'none', 'apiKey', 'oauth2ClientCredentials', 'sessionLogin'");
                return null;
        }
    }

    private static PagingSettings? ReadPaging(Reader read, JsonElement root)
    {
        if (read.Object(root, "", "paging", required: true) is not { } p)
        {
            return null;
        }

        const string at = "paging";
        var type = read.String(p, at, "type", required: true);
        switch (type)
        {
            case null:
                return null;
            case "pageSize":
            {
                read.OnlyKnown(p, at, "type", "pageParam", "sizeParam", "firstPage", "lastPath");
                var pageParam = read.String(p, at, "pageParam", required: false, fallback: "page");
                var sizeParam = read.String(p, at, "sizeParam", required: false, fallback: "size");
                var firstPage = read.Integer(p, at, "firstPage", 0, 0, 1);
                var lastPath = read.Path(p, at, "lastPath", required: false, fallback: null);
                return pageParam is null || sizeParam is null ? null : new PageNumberPaging(pageParam, sizeParam, firstPage, lastPath);
            }

            case "offsetLimit":
            {
                read.OnlyKnown(p, at, "type", "offsetParam", "limitParam");
                var offsetParam = read.String(p, at, "offsetParam", required: false, fallback: "offset");
                var limitParam = read.String(p, at, "limitParam", required: false, fallback: "limit");
                return offsetParam is null || limitParam is null ? null : new OffsetLimitPaging(offsetParam, limitParam);
            }

            case "nextToken":
            {
                read.OnlyKnown(p, at, "type", "tokenParam", "sizeParam", "nextTokenPath");
                var tokenParam = read.String(p, at, "tokenParam", required: false, fallback: "pageToken");
                var sizeParam = read.String(p, at, "sizeParam", required: false, fallback: "size");
                var nextTokenPath = read.Path(p, at, "nextTokenPath", required: false, fallback: "nextPageToken");
                return tokenParam is null || sizeParam is null || nextTokenPath is null
                    ? null
                    : new NextTokenPaging(tokenParam, sizeParam, nextTokenPath);
            }

            default:
                read.Problem("paging.type", "must be one of 'pageSize', 'offsetLimit', 'nextToken'");
                return null;
        }
    }

    private static CursorSettings? ReadCursor(Reader read, JsonElement root)
    {
        if (read.Object(root, "", "cursor", required: false) is not { } c)
        {
            return null;
        }

        const string at = "cursor";
        read.OnlyKnown(c, at, "param", "field", "fieldFormat", "format", "timeZone", "initial", "lookback");
        var param = read.String(c, at, "param", required: true);
        var field = read.Path(c, at, "field", required: true, fallback: null);

        var fieldFormat = read.String(c, at, "fieldFormat", required: false);
        if (fieldFormat is not null && !SourceTime.IsValidFormat(fieldFormat))
        {
            read.Problem("cursor.fieldFormat", "is not a .NET date-time format that can read back what it writes");
        }

        var format = read.String(c, at, "format", required: false, fallback: DefaultCursorFormat);
        if (format is not null && !SourceTime.IsValidFormat(format))
        {
            read.Problem("cursor.format", "is not a .NET date-time format, such as 'yyyy-MM-dd HH:mm:ss'");
        }

        var zoneText = read.String(c, at, "timeZone", required: false, fallback: DefaultTimeZone);
        TimeZoneInfo? zone = null;
        if (zoneText is not null && !SourceTime.TryParseZone(zoneText, out zone))
        {
            read.Problem("cursor.timeZone", "must be an offset such as '+07:00', 'UTC' or an IANA zone id such as 'Asia/Ho_Chi_Minh'");
            zone = null;
        }

        DateTimeOffset? initial = null;
        var initialText = read.String(c, at, "initial", required: false);
        if (initialText is not null && zone is not null)
        {
            if (format is not null && SourceTime.TryParse(initialText, format, zone, out var inFormat))
            {
                initial = inFormat;
            }
            else if (SourceTime.TryParse(initialText, null, zone, out var iso))
            {
                initial = iso;
            }
            else
            {
                read.Problem("cursor.initial", "must be a date-time in ISO 8601 or in the cursor's 'format'");
            }
        }

        var lookback = TimeSpan.Zero;
        var lookbackText = read.String(c, at, "lookback", required: false);
        if (lookbackText is not null
            && (!TimeSpan.TryParseExact(lookbackText, "c", CultureInfo.InvariantCulture, out lookback) || lookback < TimeSpan.Zero || lookback > MaxLookback))
        {
            read.Problem("cursor.lookback", $"must be a duration 'hh:mm:ss' (or 'd.hh:mm:ss') between 00:00:00 and {MaxLookback:c}");
        }

        return param is null || field is null || format is null || zone is null
            ? null
            : new CursorSettings(param, field, fieldFormat, format, zone, initial, lookback);
    }

    /// <summary>Every query parameter the connector sends must have one meaning.</summary>
    private static void CheckParameterNames(Reader read, IReadOnlyDictionary<string, string> query, AuthSettings? auth, PagingSettings? paging, CursorSettings? cursor)
    {
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in query.Keys)
        {
            owners[key] = $"query.{key}";
        }

        void Claim(string? name, string owner)
        {
            if (name is null)
            {
                return;
            }

            if (owners.TryGetValue(name, out var other))
            {
                read.Problem(owner, $"uses the query parameter '{name}', which {other} already sets");
            }
            else
            {
                owners[name] = owner;
            }
        }

        switch (paging)
        {
            case PageNumberPaging p:
                Claim(p.PageParam, "paging.pageParam");
                Claim(p.SizeParam, "paging.sizeParam");
                break;
            case OffsetLimitPaging o:
                Claim(o.OffsetParam, "paging.offsetParam");
                Claim(o.LimitParam, "paging.limitParam");
                break;
            case NextTokenPaging t:
                Claim(t.TokenParam, "paging.tokenParam");
                Claim(t.SizeParam, "paging.sizeParam");
                break;
        }

        Claim(cursor?.Param, "cursor.param");
        Claim((auth as SessionLoginAuth)?.TokenQuery, "auth.tokenQuery");
    }

    /// <summary>
    /// Joins the base URL and a path by concatenation, keeping the base URL's own path: <c>https://h/igate</c> and
    /// <c>/api/v1/x</c> give <c>https://h/igate/api/v1/x</c> (RFC 3986 resolution would drop <c>/igate</c>).
    /// </summary>
    public static Uri Join(Uri baseUrl, string path) =>
        new(baseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/" + path.TrimStart('/'), UriKind.Absolute);

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "missing",
    };

    /// <summary>Reads settings and collects every problem, so one attempt shows the whole list.</summary>
    private sealed partial class Reader
    {
        public List<string> Problems { get; } = [];

        public void Problem(string path, string message) => Problems.Add($"{path}: {message}");

        private static string Name(string parent, string name) => parent.Length == 0 ? name : $"{parent}.{name}";

        private static bool TryGet(JsonElement obj, string name, out JsonElement value) =>
            obj.TryGetProperty(name, out value) && value.ValueKind != JsonValueKind.Null;

        public void OnlyKnown(JsonElement obj, string parent, params string[] known)
        {
            foreach (var property in obj.EnumerateObject())
            {
                if (!known.Contains(property.Name, StringComparer.Ordinal))
                {
                    Problem(Name(parent, property.Name), $"is not a setting here (expected one of: {string.Join(", ", known)})");
                }
            }
        }

        public JsonElement? Object(JsonElement obj, string parent, string name, bool required)
        {
            if (!TryGet(obj, name, out var value))
            {
                if (required)
                {
                    Problem(Name(parent, name), "is required");
                }

                return null;
            }

            if (value.ValueKind != JsonValueKind.Object)
            {
                Problem(Name(parent, name), $"must be an object, not {Describe(value.ValueKind)}");
                return null;
            }

            return value;
        }

        public string? String(JsonElement obj, string parent, string name, bool required, string? fallback = null)
        {
            if (!TryGet(obj, name, out var value))
            {
                if (required)
                {
                    Problem(Name(parent, name), "is required");
                }

                return fallback;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                Problem(Name(parent, name), $"must be a string, not {Describe(value.ValueKind)}");
                return null;
            }

            var text = value.GetString()!;
            if (string.IsNullOrWhiteSpace(text))
            {
                Problem(Name(parent, name), "must not be empty");
                return null;
            }

            return text;
        }

        public int Integer(JsonElement obj, string parent, string name, int fallback, int min, int max)
        {
            if (!TryGet(obj, name, out var value))
            {
                return fallback;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number) || number < min || number > max)
            {
                Problem(Name(parent, name), $"must be a whole number from {min} to {max}");
                return fallback;
            }

            return number;
        }

        public JsonPath? Path(JsonElement obj, string parent, string name, bool required, string? fallback)
        {
            string? text;
            if (!TryGet(obj, name, out var value))
            {
                if (required)
                {
                    Problem(Name(parent, name), "is required");
                }

                text = fallback;
            }
            else if (value.ValueKind != JsonValueKind.String)
            {
                Problem(Name(parent, name), $"must be a string, not {Describe(value.ValueKind)}");
                return null;
            }
            else
            {
                text = value.GetString()!;
            }

            if (text is null)
            {
                return null;
            }

            if (!JsonPath.TryParse(text, out var path))
            {
                Problem(Name(parent, name), "must be a dotted path such as 'content' or 'data.items' (empty or '$' for the whole reply)");
                return null;
            }

            return path;
        }

        public Uri? AbsoluteHttpUrl(JsonElement obj, string parent, string name)
        {
            var text = String(obj, parent, name, required: true);
            if (text is null)
            {
                return null;
            }

            if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            {
                Problem(Name(parent, name), "must be an absolute http or https URL");
                return null;
            }

            if (url.Query.Length > 0 || url.Fragment.Length > 0 || url.UserInfo.Length > 0)
            {
                Problem(Name(parent, name), "must not carry a query string, fragment or user information");
                return null;
            }

            return url;
        }

        /// <summary>An absolute http(s) URL, or a path relative to the base URL.</summary>
        public Uri? HttpUrl(JsonElement obj, string parent, string name, Uri? baseUrl)
        {
            var text = String(obj, parent, name, required: true);
            if (text is null)
            {
                return null;
            }

            if (Uri.TryCreate(text, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https")
            {
                return absolute;
            }

            if (text.StartsWith('/') && Uri.TryCreate(text, UriKind.Relative, out _))
            {
                return baseUrl is null ? null : Join(baseUrl, text);
            }

            Problem(Name(parent, name), "must be an absolute http or https URL, or a path starting with '/' relative to baseUrl");
            return null;
        }

        public string? HeaderName(JsonElement obj, string parent, string name, bool required, string? fallback)
        {
            var text = String(obj, parent, name, required, fallback);
            if (text is not null && !Token().IsMatch(text))
            {
                Problem(Name(parent, name), "must be an HTTP header name (letters, digits and -)");
                return null;
            }

            return text;
        }

        public IReadOnlyDictionary<string, string> StringMap(JsonElement obj, string parent, string name, bool headerNames)
        {
            var map = new Dictionary<string, string>(headerNames ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
            if (Object(obj, parent, name, required: false) is not { } value)
            {
                return map;
            }

            foreach (var property in value.EnumerateObject())
            {
                var at = $"{Name(parent, name)}.{property.Name}";
                if (headerNames && !Token().IsMatch(property.Name))
                {
                    Problem(at, "is not an HTTP header name (letters, digits and -)");
                }
                else if (property.Name.Length == 0)
                {
                    Problem(Name(parent, name), "has an empty parameter name");
                }
                else if (property.Value.ValueKind != JsonValueKind.String)
                {
                    Problem(at, $"must be a string, not {Describe(property.Value.ValueKind)}");
                }
                else
                {
                    map[property.Name] = property.Value.GetString()!;
                }
            }

            return map;
        }

        /// <summary>An HTTP token (RFC 9110, section 5.6.2): what a header name may be made of.</summary>
        [GeneratedRegex(@"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$", RegexOptions.CultureInvariant)]
        private static partial Regex Token();
    }
}

/// <summary>How the connector authenticates with the source.</summary>
internal abstract record AuthSettings;

/// <summary>No authentication.</summary>
internal sealed record NoAuth : AuthSettings;

/// <summary>A fixed key in a header.</summary>
internal sealed record ApiKeyAuth(string Header, string Key) : AuthSettings
{
    public override string ToString() => $"ApiKeyAuth {{ Header = {Header}, Key = *** }}";
}

/// <summary>OAuth 2.0 client credentials (RFC 6749, section 4.4), with the secret in the form body (client_secret_post).</summary>
internal sealed record OAuth2ClientCredentialsAuth(Uri TokenUrl, string ClientId, string ClientSecret, string? Scope) : AuthSettings
{
    public override string ToString() => $"OAuth2ClientCredentialsAuth {{ TokenUrl = {TokenUrl.AbsolutePath}, ClientId = {ClientId}, ClientSecret = ***, Scope = {Scope} }}";
}

/// <summary>A login with username and password that answers a session token, as the national portal's adapter does.</summary>
/// <param name="LoginUrl">Where to post the login.</param>
/// <param name="Username">The user name.</param>
/// <param name="Password">The password.</param>
/// <param name="TokenPath">Where the login reply holds the session token.</param>
/// <param name="UsernameField">The login body's field for the user name.</param>
/// <param name="PasswordField">The login body's field for the password.</param>
/// <param name="TokenHeader">The header that carries the session token on data calls; <c>null</c> with no <paramref name="TokenQuery"/>: <c>Authorization: Bearer</c>.</param>
/// <param name="TokenQuery">The query parameter that carries the session token on data calls, instead of a header.</param>
internal sealed record SessionLoginAuth(
    Uri LoginUrl,
    string Username,
    string Password,
    JsonPath TokenPath,
    string UsernameField,
    string PasswordField,
    string? TokenHeader,
    string? TokenQuery) : AuthSettings
{
    public override string ToString() => $"SessionLoginAuth {{ LoginUrl = {LoginUrl.AbsolutePath}, Username = {Username}, Password = *** }}";
}

/// <summary>How the source splits its feed into pages.</summary>
internal abstract record PagingSettings;

/// <summary>Numbered pages of a fixed size (Spring Data style: <c>page</c>, <c>size</c>, <c>last</c>).</summary>
internal sealed record PageNumberPaging(string PageParam, string SizeParam, int FirstPage, JsonPath? LastPath) : PagingSettings;

/// <summary>Offset and limit.</summary>
internal sealed record OffsetLimitPaging(string OffsetParam, string LimitParam) : PagingSettings;

/// <summary>An opaque next-page token from each reply.</summary>
internal sealed record NextTokenPaging(string TokenParam, string SizeParam, JsonPath NextTokenPath) : PagingSettings;

/// <summary>The incremental cursor: a lower bound on the items' update time, sent as a query parameter.</summary>
/// <param name="Param">The query parameter of the lower bound (inclusive at the source).</param>
/// <param name="Field">Where each item holds the time that orders the feed.</param>
/// <param name="FieldFormat">The .NET format of that time; <c>null</c>: ISO 8601.</param>
/// <param name="Format">The .NET format of the parameter value.</param>
/// <param name="TimeZone">The zone of the parameter value, and of item times written without offset.</param>
/// <param name="Initial">Where the first run starts; <c>null</c>: from the beginning of the feed.</param>
/// <param name="Lookback">Subtracted from the stored lower bound when a run starts, to re-read late writes.</param>
internal sealed record CursorSettings(
    string Param,
    JsonPath Field,
    string? FieldFormat,
    string Format,
    TimeZoneInfo TimeZone,
    DateTimeOffset? Initial,
    TimeSpan Lookback);
