using Authpb;
using Coordination.Client.Kv;
using Coordination.Client.Transport;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Client.Auth;

/// <summary>What a role may do on a key range.</summary>
public enum PermissionType
{
    /// <summary>Read.</summary>
    Read = 0,

    /// <summary>Write.</summary>
    Write = 1,

    /// <summary>Read and write.</summary>
    ReadWrite = 2,
}

/// <summary>A permission of a role on [Key, RangeEnd) (one key when RangeEnd is empty).</summary>
/// <param name="Type">Read, write or both.</param>
/// <param name="Key">First key.</param>
/// <param name="RangeEnd">End of the range (exclusive); empty for one key.</param>
public sealed record Permission(PermissionType Type, string Key, string RangeEnd = "")
{
    /// <summary>A permission on every key starting with <paramref name="prefix"/>.</summary>
    public static Permission ForPrefix(PermissionType type, string prefix) =>
        new(type, prefix, System.Text.Encoding.UTF8.GetString(KeyRange.PrefixEnd(KeyRange.Utf8Bytes(prefix))));
}

/// <summary>
/// Authentication management. The client itself authenticates with the configured user and password
/// (<see cref="CoordinationClientOptions.Username"/>); this interface manages users and roles.
/// Changes are writes: never repeated after an ambiguous failure.
/// </summary>
public interface IAuthClient
{
    /// <summary>Enables authentication (needs user <c>root</c> with role <c>root</c>).</summary>
    Task EnableAsync(CancellationToken cancellationToken = default);

    /// <summary>Disables authentication.</summary>
    Task DisableAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds a user.</summary>
    Task AddUserAsync(string name, string password, CancellationToken cancellationToken = default);

    /// <summary>Deletes a user.</summary>
    Task DeleteUserAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Roles of a user.</summary>
    Task<IReadOnlyList<string>> GetUserRolesAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every user.</summary>
    Task<IReadOnlyList<string>> ListUsersAsync(CancellationToken cancellationToken = default);

    /// <summary>Changes a user's password.</summary>
    Task ChangePasswordAsync(string name, string password, CancellationToken cancellationToken = default);

    /// <summary>Grants a role to a user.</summary>
    Task GrantRoleAsync(string user, string role, CancellationToken cancellationToken = default);

    /// <summary>Revokes a role from a user.</summary>
    Task RevokeRoleAsync(string user, string role, CancellationToken cancellationToken = default);

    /// <summary>Adds a role.</summary>
    Task AddRoleAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Deletes a role.</summary>
    Task DeleteRoleAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Permissions of a role.</summary>
    Task<IReadOnlyList<Permission>> GetRolePermissionsAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Every role.</summary>
    Task<IReadOnlyList<string>> ListRolesAsync(CancellationToken cancellationToken = default);

    /// <summary>Grants a permission to a role.</summary>
    Task GrantPermissionAsync(string role, Permission permission, CancellationToken cancellationToken = default);

    /// <summary>Revokes a role's permission on [key, rangeEnd).</summary>
    Task RevokePermissionAsync(string role, string key, string rangeEnd = "", CancellationToken cancellationToken = default);
}

/// <summary>The Auth service over the <see cref="CallRunner"/>.</summary>
internal sealed class AuthClient(CallRunner runner) : IAuthClient
{
    private static Etcdserverpb.Auth.AuthClient Stub(Grpc.Core.CallInvoker invoker) => new(invoker);

    public Task EnableAsync(CancellationToken cancellationToken = default) =>
        runner.UnaryAsync("Auth/AuthEnable", CallKind.NonRepeatable, (i, o) => Stub(i).AuthEnableAsync(new AuthEnableRequest(), o), cancellationToken);

    public Task DisableAsync(CancellationToken cancellationToken = default) =>
        runner.UnaryAsync("Auth/AuthDisable", CallKind.NonRepeatable, (i, o) => Stub(i).AuthDisableAsync(new AuthDisableRequest(), o), cancellationToken);

    public Task AddUserAsync(string name, string password, CancellationToken cancellationToken = default) =>
        runner.UnaryAsync("Auth/UserAdd", CallKind.NonRepeatable, (i, o) => Stub(i).UserAddAsync(new AuthUserAddRequest { Name = name, Password = password }, o), cancellationToken);

    public Task DeleteUserAsync(string name, CancellationToken cancellationToken = default) =>
        runner.UnaryAsync("Auth/UserDelete", CallKind.NonRepeatable, (i, o) => Stub(i).UserDeleteAsync(new AuthUserDeleteRequest { Name = name }, o), cancellationToken);

    public async Task<IReadOnlyList<string>> GetUserRolesAsync(string name, CancellationToken cancellationToken = default) =>
        [.. (await runner.UnaryAsync("Auth/UserGet", CallKind.Repeatable, (i, o) => Stub(i).UserGetAsync(new AuthUserGetRequest { Name = name }, o), cancellationToken).ConfigureAwait(false)).Roles];

    public async Task<IReadOnlyList<string>> ListUsersAsync(CancellationToken cancellationToken = default) =>
        [.. (await runner.UnaryAsync("Auth/UserList", CallKind.Repeatable, (i, o) => Stub(i).UserListAsync(new AuthUserListRequest(), o), cancellationToken).ConfigureAwait(false)).Users];

    public Task ChangePasswordAsync(string name, string password, CancellationToken cancellationToken = default) =>
        runner.UnaryAsync("Auth/UserChangePassword", CallKind.NonRepeatable, (i, o) => Stub(i).UserChangePasswordAsync(new AuthUserChangePasswordRequest { Name = name, Password = password }, o), cancellationToken);

    public Task GrantRoleAsync(string user, string role, CancellationToken cancellationToken = default) =>
        runner.UnaryAsync("Auth/UserGrantRole", CallKind.NonRepeatable, (i, o) => Stub(i).UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = user, Role = role }, o), cancellationToken);

    public Task RevokeRoleAsync(string user, string role, CancellationToken cancellationToken = default) =>
        runner.UnaryAsync("Auth/UserRevokeRole", CallKind.NonRepeatable, (i, o) => Stub(i).UserRevokeRoleAsync(new AuthUserRevokeRoleRequest { Name = user, Role = role }, o), cancellationToken);

    public Task AddRoleAsync(string name, CancellationToken cancellationToken = default) =>
        runner.UnaryAsync("Auth/RoleAdd", CallKind.NonRepeatable, (i, o) => Stub(i).RoleAddAsync(new AuthRoleAddRequest { Name = name }, o), cancellationToken);

    public Task DeleteRoleAsync(string name, CancellationToken cancellationToken = default) =>
        runner.UnaryAsync("Auth/RoleDelete", CallKind.NonRepeatable, (i, o) => Stub(i).RoleDeleteAsync(new AuthRoleDeleteRequest { Role = name }, o), cancellationToken);

    public async Task<IReadOnlyList<Permission>> GetRolePermissionsAsync(string name, CancellationToken cancellationToken = default)
    {
        var r = await runner.UnaryAsync("Auth/RoleGet", CallKind.Repeatable, (i, o) => Stub(i).RoleGetAsync(new AuthRoleGetRequest { Role = name }, o), cancellationToken).ConfigureAwait(false);
        return [.. r.Perm.Select(p => new Permission((PermissionType)(int)p.PermType, p.Key.ToStringUtf8(), p.RangeEnd.ToStringUtf8()))];
    }

    public async Task<IReadOnlyList<string>> ListRolesAsync(CancellationToken cancellationToken = default) =>
        [.. (await runner.UnaryAsync("Auth/RoleList", CallKind.Repeatable, (i, o) => Stub(i).RoleListAsync(new AuthRoleListRequest(), o), cancellationToken).ConfigureAwait(false)).Roles];

    public Task GrantPermissionAsync(string role, Permission permission, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(permission);
        var request = new AuthRoleGrantPermissionRequest
        {
            Name = role,
            Perm = new Authpb.Permission
            {
                PermType = (Authpb.Permission.Types.Type)(int)permission.Type,
                Key = ByteString.CopyFromUtf8(permission.Key),
                RangeEnd = ByteString.CopyFromUtf8(permission.RangeEnd),
            },
        };
        return runner.UnaryAsync("Auth/RoleGrantPermission", CallKind.NonRepeatable, (i, o) => Stub(i).RoleGrantPermissionAsync(request, o), cancellationToken);
    }

    public Task RevokePermissionAsync(string role, string key, string rangeEnd = "", CancellationToken cancellationToken = default) =>
        runner.UnaryAsync("Auth/RoleRevokePermission", CallKind.NonRepeatable,
            (i, o) => Stub(i).RoleRevokePermissionAsync(new AuthRoleRevokePermissionRequest { Role = role, Key = ByteString.CopyFromUtf8(key), RangeEnd = ByteString.CopyFromUtf8(rangeEnd) }, o), cancellationToken);
}
