namespace Coordination.Integration.Tests.Scenarios;

/// <summary>The faults the scenarios inject into a three-member cluster under load.</summary>
public enum ClusterFault
{
    /// <summary>The leader's container is stopped, then started again.</summary>
    LeaderStopped,

    /// <summary>One follower (a minority) is paused, then unpaused.</summary>
    FollowerPaused,

    /// <summary>The leader is disconnected from the cluster's network, then connected again.</summary>
    LeaderDisconnected,

    /// <summary>Every member is stopped, then all are started again.</summary>
    FullRestart,

    /// <summary>Each member in turn is stopped and started again.</summary>
    RollingRestart,

    /// <summary>A fourth member is added (MemberAdd, then a container joining the existing cluster), then a first one removed.</summary>
    MemberAddedAndRemoved,
}
