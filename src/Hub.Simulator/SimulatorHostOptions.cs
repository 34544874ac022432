using System.Net;

namespace Hub.Simulator;

/// <summary>How <see cref="SimulatorHost"/> listens.</summary>
public sealed record SimulatorHostOptions
{
    /// <summary>The address to listen on; loopback by default.</summary>
    public IPAddress ListenAddress { get; init; } = IPAddress.Loopback;

    /// <summary>The port; 0 takes a free one.</summary>
    public int Port { get; init; }

    /// <summary>The clock of every province; the system clock when null.</summary>
    public TimeProvider? TimeProvider { get; init; }

    /// <summary>Log the host's events (Kestrel, requests) to the console.</summary>
    public bool LogToConsole { get; init; }

    /// <summary>Stop on Ctrl+C and SIGTERM (for the standalone program); off for in-process use.</summary>
    public bool HandleShutdownSignals { get; init; }
}
