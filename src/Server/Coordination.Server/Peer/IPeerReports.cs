namespace Coordination.Server.Peer;

/// <summary>What the peer transport tells the node loop about its peers (any thread; never blocks).</summary>
internal interface IPeerReports
{
    /// <summary>Messages to <paramref name="peer"/> could not be delivered.</summary>
    void ReportUnreachable(ulong peer);

    /// <summary><paramref name="peer"/>'s process is gone: its peer port refused a connection.</summary>
    void ReportPeerDown(ulong peer);

    /// <summary>A snapshot was sent to <paramref name="peer"/> (or could not be).</summary>
    void ReportSnapshot(ulong peer, bool succeeded);
}
