using Coordination.Server.Node;
using Etcdserverpb;
using Grpc.Core;

namespace Coordination.Server.Services;

/// <summary>etcd's Auth service: a thin adapter over <see cref="CoordinationNode"/> (permissions are checked by <see cref="ClientCallInterceptor"/>).</summary>
internal sealed class AuthService(CoordinationNode node) : Etcdserverpb.Auth.AuthBase
{
    public override Task<AuthEnableResponse> AuthEnable(AuthEnableRequest request, ServerCallContext context) =>
        node.AuthChangeAsync<AuthEnableResponse>(request, context.CancellationToken);

    public override Task<AuthDisableResponse> AuthDisable(AuthDisableRequest request, ServerCallContext context) =>
        node.AuthChangeAsync<AuthDisableResponse>(request, context.CancellationToken);

    public override Task<AuthStatusResponse> AuthStatus(AuthStatusRequest request, ServerCallContext context) =>
        Task.FromResult(node.AuthStatus());

    public override Task<AuthenticateResponse> Authenticate(AuthenticateRequest request, ServerCallContext context) =>
        node.AuthenticateAsync(request, context.CancellationToken);

    public override Task<AuthUserAddResponse> UserAdd(AuthUserAddRequest request, ServerCallContext context) =>
        node.AuthChangeAsync<AuthUserAddResponse>(request, context.CancellationToken);

    public override Task<AuthUserGetResponse> UserGet(AuthUserGetRequest request, ServerCallContext context) =>
        Task.FromResult(node.UserGet(request));

    public override Task<AuthUserListResponse> UserList(AuthUserListRequest request, ServerCallContext context) =>
        Task.FromResult(node.UserList());

    public override Task<AuthUserDeleteResponse> UserDelete(AuthUserDeleteRequest request, ServerCallContext context) =>
        node.AuthChangeAsync<AuthUserDeleteResponse>(request, context.CancellationToken);

    public override Task<AuthUserChangePasswordResponse> UserChangePassword(AuthUserChangePasswordRequest request, ServerCallContext context) =>
        node.AuthChangeAsync<AuthUserChangePasswordResponse>(request, context.CancellationToken);

    public override Task<AuthUserGrantRoleResponse> UserGrantRole(AuthUserGrantRoleRequest request, ServerCallContext context) =>
        node.AuthChangeAsync<AuthUserGrantRoleResponse>(request, context.CancellationToken);

    public override Task<AuthUserRevokeRoleResponse> UserRevokeRole(AuthUserRevokeRoleRequest request, ServerCallContext context) =>
        node.AuthChangeAsync<AuthUserRevokeRoleResponse>(request, context.CancellationToken);

    public override Task<AuthRoleAddResponse> RoleAdd(AuthRoleAddRequest request, ServerCallContext context) =>
        node.AuthChangeAsync<AuthRoleAddResponse>(request, context.CancellationToken);

    public override Task<AuthRoleGetResponse> RoleGet(AuthRoleGetRequest request, ServerCallContext context) =>
        Task.FromResult(node.RoleGet(request));

    public override Task<AuthRoleListResponse> RoleList(AuthRoleListRequest request, ServerCallContext context) =>
        Task.FromResult(node.RoleList());

    public override Task<AuthRoleDeleteResponse> RoleDelete(AuthRoleDeleteRequest request, ServerCallContext context) =>
        node.AuthChangeAsync<AuthRoleDeleteResponse>(request, context.CancellationToken);

    public override Task<AuthRoleGrantPermissionResponse> RoleGrantPermission(AuthRoleGrantPermissionRequest request, ServerCallContext context) =>
        node.AuthChangeAsync<AuthRoleGrantPermissionResponse>(request, context.CancellationToken);

    public override Task<AuthRoleRevokePermissionResponse> RoleRevokePermission(AuthRoleRevokePermissionRequest request, ServerCallContext context) =>
        node.AuthChangeAsync<AuthRoleRevokePermissionResponse>(request, context.CancellationToken);
}
