using Coordination.Server.Errors;
using Google.Protobuf;

namespace Coordination.Server.StateMachine;

/// <summary>What applying one proposal produced: the response for its proposer, or an etcd error.</summary>
internal readonly record struct ApplyResult(IMessage? Response, EtcdError? Error)
{
    /// <summary>A successful result.</summary>
    public static ApplyResult Ok(IMessage response) => new(response, null);

    /// <summary>A failed result.</summary>
    public static ApplyResult Failed(EtcdError error) => new(null, error);
}
