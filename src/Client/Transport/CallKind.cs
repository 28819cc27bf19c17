namespace Coordination.Client.Transport;

/// <summary>Whether a call may be repeated after a failure whose outcome is unknown.</summary>
internal enum CallKind
{
    /// <summary>Reads and calls whose repetition is harmless (Range, LeaseGrant/Revoke/TimeToLive, Status, MemberList, ...):
    /// retried on transport failures and on "cluster unavailable" answers, on another endpoint when possible.</summary>
    Repeatable,

    /// <summary>Writes (Put, DeleteRange, Txn, Compact, membership and auth changes): retried only when the request
    /// provably never left the client; a failure after sending is reported as <see cref="EtcdOutcomeUnknownException"/>.</summary>
    NonRepeatable,
}
