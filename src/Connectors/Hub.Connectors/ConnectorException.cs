namespace Hub.Connectors;

/// <summary>
/// A failure of a connector, saying whose side failed and whether retrying can help, so operators know whom to call.
/// </summary>
public sealed class ConnectorException : Exception
{
    /// <summary>A failure of the hub with no message.</summary>
    public ConnectorException()
    {
    }

    /// <summary>A failure of the hub.</summary>
    public ConnectorException(string message)
        : base(message)
    {
    }

    /// <summary>A failure of the hub with its cause.</summary>
    public ConnectorException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates a failure of the given side.</summary>
    public ConnectorException(FailureSide side, bool retryable, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Side = side;
        Retryable = retryable;
    }

    /// <summary>Whose side failed.</summary>
    public FailureSide Side { get; } = FailureSide.Hub;

    /// <summary>Whether running again later can succeed without anyone changing anything.</summary>
    public bool Retryable { get; }

    /// <summary>
    /// What the source answered when its answer is the failure (a body that is not JSON, a page without its items), kept
    /// with the rejected message in the hub's exchange log; <c>null</c> when nothing usable was received.
    /// </summary>
    public ReadOnlyMemory<byte>? ReceivedContent { get; init; }

    /// <summary>The media type of <see cref="ReceivedContent"/>.</summary>
    public string? ReceivedContentType { get; init; }
}

/// <summary>Whose side a failure is on.</summary>
public enum FailureSide
{
    /// <summary>The source could not be reached, timed out or answered with a server error.</summary>
    SourceUnreachable,

    /// <summary>The source refused the credentials.</summary>
    SourceAuth,

    /// <summary>The source answered, but with data the connector cannot read.</summary>
    SourceData,

    /// <summary>The connector's configuration or mapping is wrong: the provincial IT team must fix it.</summary>
    Configuration,

    /// <summary>The hub itself failed.</summary>
    Hub,
}
