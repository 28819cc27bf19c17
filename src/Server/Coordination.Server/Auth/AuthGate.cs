using Authpb;
using Coordination.Server.Concurrency;
using Coordination.Server.Errors;
using Coordination.Server.Lease;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using PermType = Authpb.Permission.Types.Type;

namespace Coordination.Server.Auth;

/// <summary>
/// Who is calling and whether they may: when auth is enabled, the caller is the user of the token in
/// the call's <c>token</c> (or <c>authorization</c>) metadata, and each request is checked against
/// etcd's rules — READ for reads, WRITE for writes, both for compares and prev_kv, WRITE on every key
/// of a lease being revoked or attached, the root role for administration (with the stricter rules
/// of etcd's 2026 fix: compaction, status, defragment, snapshot, hashes, alarms changes and leader
/// moves are admin-only). Permissions are checked before proposing, not at apply time as etcd does,
/// so a write racing a permission revocation may still be applied.
/// </summary>
internal sealed class AuthGate(AuthStore store, SimpleTokens tokens, Lessor leases)
{
    /// <summary>The caller's user name; null when auth is disabled.</summary>
    /// <exception cref="EtcdException">UserEmpty without a token; InvalidAuthToken for an unknown or expired one.</exception>
    public string? Caller(ServerCallContext context)
    {
        if (!store.Enabled) return null;
        var token = context.RequestHeaders.GetValue("token") ?? context.RequestHeaders.GetValue("authorization");
        if (string.IsNullOrEmpty(token)) throw EtcdErrors.UserEmpty.ToException();
        var user = tokens.Resolve(token);
        if (user is null || store.FindUser(user) is null) throw EtcdErrors.InvalidAuthToken.ToException();
        return user;
    }

    /// <summary>Checks that the caller may send <paramref name="request"/>; throws PermissionDenied (or the caller errors) otherwise.</summary>
    public void Authorize(object request, ServerCallContext context)
    {
        if (request is AuthenticateRequest or AuthStatusRequest) return;
        if (Caller(context) is not { } user) return;
        if (!IsPermitted(user, request)) throw EtcdErrors.PermissionDenied.ToException();
    }

    /// <summary>Checks a watch on [key, rangeEnd): the full gRPC error text to cancel it with, or null when allowed.</summary>
    public string? RefuseWatch(WatchCreateRequest create, ServerCallContext context)
    {
        try
        {
            if (Caller(context) is { } user && !store.IsPermitted(user, PermType.Read, create.Key, create.RangeEnd))
                throw EtcdErrors.PermissionDenied.ToException();
            return null;
        }
        catch (EtcdException ex)
        {
            return $"rpc error: code = {ex.Error.Code} desc = {ex.Error.Message}";
        }
    }

    private bool IsPermitted(string user, object request)
    {
        if (store.FindUser(user) is { IsRoot: true }) return true;
        return request switch
        {
            RangeRequest r => Read(user, r.Key, r.RangeEnd),
            PutRequest p => CanPut(user, p),
            DeleteRangeRequest d => Write(user, d.Key, d.RangeEnd) && (!d.PrevKv || Read(user, d.Key, d.RangeEnd)),
            TxnRequest t => CanTxn(user, t),
            LeaseGrantRequest or LeaseTimeToLiveRequest or LeaseLeasesRequest or LeaseKeepAliveRequest => true,
            LeaseRevokeRequest revoke => LeaseKeysWritable(user, revoke.ID),
            AlarmRequest alarm => alarm.Action == AlarmRequest.Types.AlarmAction.Get,
            MemberListRequest => true,
            AuthUserGetRequest get => get.Name == user,
            AuthRoleGetRequest role => store.FindUser(user)?.Roles.Contains(role.Role) == true,
            V3Lockpb.LockRequest l => Read(user, l.Name, KeyPrefix.RangeEndOf(l.Name)) && Write(user, l.Name, KeyPrefix.RangeEndOf(l.Name)),
            V3Lockpb.UnlockRequest u => Write(user, u.Key, ByteString.Empty),
            V3Electionpb.CampaignRequest c => Read(user, c.Name, KeyPrefix.RangeEndOf(c.Name)) && Write(user, c.Name, KeyPrefix.RangeEndOf(c.Name)),
            V3Electionpb.ProclaimRequest p => p.Leader is { } leader && Write(user, leader.Key, ByteString.Empty),
            V3Electionpb.ResignRequest r => r.Leader is { } leader && Write(user, leader.Key, ByteString.Empty),
            V3Electionpb.LeaderRequest l => Read(user, l.Name, KeyPrefix.RangeEndOf(l.Name)),
            // Everything else (compaction, status, hashes, defragment, snapshot, leader moves,
            // membership changes, user and role management) needs the root role.
            _ => false,
        };
    }

    private bool CanPut(string user, PutRequest put) =>
        Write(user, put.Key, ByteString.Empty) && (!put.PrevKv || Read(user, put.Key, ByteString.Empty)) && (put.Lease == 0 || LeaseKeysWritable(user, put.Lease));

    private bool CanTxn(string user, TxnRequest txn) =>
        txn.Compare.All(c => Read(user, c.Key, c.RangeEnd))
        && txn.Success.Concat(txn.Failure).All(op => op.RequestCase switch
        {
            RequestOp.RequestOneofCase.RequestRange => Read(user, op.RequestRange.Key, op.RequestRange.RangeEnd),
            RequestOp.RequestOneofCase.RequestPut => CanPut(user, op.RequestPut),
            RequestOp.RequestOneofCase.RequestDeleteRange => IsPermitted(user, op.RequestDeleteRange),
            RequestOp.RequestOneofCase.RequestTxn => CanTxn(user, op.RequestTxn),
            _ => true,
        });

    private bool LeaseKeysWritable(string user, long leaseId) =>
        (leases.KeysOf(leaseId) ?? []).All(key => Write(user, key, ByteString.Empty));

    private bool Read(string user, ByteString key, ByteString rangeEnd) => store.IsPermitted(user, PermType.Read, key, rangeEnd);

    private bool Write(string user, ByteString key, ByteString rangeEnd) => store.IsPermitted(user, PermType.Write, key, rangeEnd);
}
