using Coordination.Server.Errors;
using Coordination.Server.Node;
using Etcdserverpb;

namespace Coordination.Server.Services;

/// <summary>
/// A learner (a non-voting member catching up) serves only what cannot be stale in a way that
/// matters: serializable ranges, the member list and its own status, as etcd's learners do. Every
/// other call gets "etcdserver: rpc not supported for learner" (streams too, but the snapshot).
/// <see cref="ClientCallInterceptor"/> asks it before every client call.
/// </summary>
internal sealed class LearnerGate(CoordinationNode node)
{
    /// <summary>Throws NotSupportedForLearner when this member is a learner and the unary <paramref name="request"/> is not one it serves.</summary>
    public void CheckUnary(object request)
    {
        if (node.IsLearner && !Supported(request)) throw EtcdErrors.NotSupportedForLearner.ToException();
    }

    /// <summary>Throws NotSupportedForLearner when this member is a learner and the server stream is not a snapshot.</summary>
    public void CheckServerStream(object request)
    {
        if (node.IsLearner && request is not SnapshotRequest) throw EtcdErrors.NotSupportedForLearner.ToException();
    }

    /// <summary>Throws NotSupportedForLearner when this member is a learner (no bidirectional stream is served).</summary>
    public void CheckDuplexStream()
    {
        if (node.IsLearner) throw EtcdErrors.NotSupportedForLearner.ToException();
    }

    private static bool Supported(object request) => request switch
    {
        RangeRequest range => range.Serializable,
        MemberListRequest or StatusRequest => true,
        _ => false,
    };
}
