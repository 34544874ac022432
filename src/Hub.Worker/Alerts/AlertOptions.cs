using System.ComponentModel.DataAnnotations;

namespace Hub.Worker.Alerts;

/// <summary>Settings of the alert rules and their delivery (docs/decisions/0014).</summary>
public sealed class AlertOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Hub:Alerts";

    /// <summary>Whether this process evaluates the rules (several processes may: firings are claimed in the database).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the rules are evaluated.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Where alerts are posted as JSON; nothing is posted when unset (alerts are still kept and logged).</summary>
    public Uri? WebhookUrl { get; set; }

    /// <summary>When set, each post carries <c>X-Hub-Signature: sha256=&lt;hex HMAC-SHA256 of the body&gt;</c> with this key.</summary>
    public string? Secret { get; set; }

    /// <summary>Time allowed for one delivery attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan DeliveryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Retries of a delivery after its first attempt, within one evaluation; the next evaluation tries again.</summary>
    [Range(0, 10)]
    public int DeliveryRetries { get; set; } = 3;

    /// <summary>The recent runs over which a connector's quarantine rate is computed.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan QuarantineWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The signing certificate alert fires when the certificate expires within this time.</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "365.00:00:00")]
    public TimeSpan CertificateWarning { get; set; } = TimeSpan.FromDays(30);
}
