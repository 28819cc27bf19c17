using Coordination.Server.Apply.Protocol;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Server.Auth;

/// <summary>Applies the auth proposals of the log to the <see cref="AuthStore"/> (and records tokens).</summary>
internal sealed class AuthApplier(AuthStore store, SimpleTokens tokens)
{
    /// <summary>True for the proposal kinds this applier handles.</summary>
    public static bool Handles(InternalRequest.RequestOneofCase kind) => kind is >= InternalRequest.RequestOneofCase.AuthEnable and <= InternalRequest.RequestOneofCase.AuthRoleRevokePermission;

    /// <summary>Applies one auth proposal at raft index <paramref name="index"/>; errors are thrown as <see cref="Errors.EtcdException"/>.</summary>
    public IMessage Apply(InternalRequest request, ulong index)
    {
        switch (request.RequestCase)
        {
            case InternalRequest.RequestOneofCase.AuthEnable:
                store.Enable();
                return new AuthEnableResponse();
            case InternalRequest.RequestOneofCase.AuthDisable:
                store.Disable();
                tokens.Clear();
                return new AuthDisableResponse();
            case InternalRequest.RequestOneofCase.Authenticate:
                var token = $"{request.Authenticate.SimpleToken}.{index}";
                tokens.Add(token, request.Authenticate.Name);
                return new AuthenticateResponse { Token = token };
            case InternalRequest.RequestOneofCase.AuthUserAdd:
                var add = request.AuthUserAdd;
                store.AddUser(add.Name, add.Options?.NoPassword == true ? null : add.HashedPassword);
                return new AuthUserAddResponse();
            case InternalRequest.RequestOneofCase.AuthUserDelete:
                store.DeleteUser(request.AuthUserDelete.Name);
                return new AuthUserDeleteResponse();
            case InternalRequest.RequestOneofCase.AuthUserChangePassword:
                store.ChangePassword(request.AuthUserChangePassword.Name, request.AuthUserChangePassword.HashedPassword);
                return new AuthUserChangePasswordResponse();
            case InternalRequest.RequestOneofCase.AuthUserGrantRole:
                store.GrantRole(request.AuthUserGrantRole.User, request.AuthUserGrantRole.Role);
                return new AuthUserGrantRoleResponse();
            case InternalRequest.RequestOneofCase.AuthUserRevokeRole:
                store.RevokeRole(request.AuthUserRevokeRole.Name, request.AuthUserRevokeRole.Role);
                return new AuthUserRevokeRoleResponse();
            case InternalRequest.RequestOneofCase.AuthRoleAdd:
                store.AddRole(request.AuthRoleAdd.Name);
                return new AuthRoleAddResponse();
            case InternalRequest.RequestOneofCase.AuthRoleDelete:
                store.DeleteRole(request.AuthRoleDelete.Role);
                return new AuthRoleDeleteResponse();
            case InternalRequest.RequestOneofCase.AuthRoleGrantPermission:
                store.GrantPermission(request.AuthRoleGrantPermission.Name, request.AuthRoleGrantPermission.Perm ?? new Authpb.Permission());
                return new AuthRoleGrantPermissionResponse();
            case InternalRequest.RequestOneofCase.AuthRoleRevokePermission:
                var revoke = request.AuthRoleRevokePermission;
                store.RevokePermission(revoke.Role, revoke.Key, revoke.RangeEnd);
                return new AuthRoleRevokePermissionResponse();
            default:
                throw new ArgumentOutOfRangeException(nameof(request), request.RequestCase, "not an auth request");
        }
    }
}
