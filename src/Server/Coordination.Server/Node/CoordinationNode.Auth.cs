using Coordination.Server.Apply.Protocol;
using Coordination.Server.Auth;
using Coordination.Server.Errors;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Server.Node;

/// <summary>The Auth API: changes go through the log (passwords hashed first), reads are local.</summary>
internal sealed partial class CoordinationNode
{
    private AuthStore AuthStore => _stateMachine.Auth;

    /// <summary>Checks a password on this member and, when it matches, proposes a new token.</summary>
    public async Task<AuthenticateResponse> AuthenticateAsync(AuthenticateRequest request, CancellationToken cancellationToken)
    {
        if (!AuthStore.Enabled) throw EtcdErrors.AuthNotEnabled.ToException();
        var user = AuthStore.FindUser(request.Name);
        if (user?.PasswordHash is not { } hash || !PasswordHasher.Verify(request.Password, hash)) throw EtcdErrors.AuthFailed.ToException();
        var response = (AuthenticateResponse)await ProposeAsync(new InternalRequest
        {
            Authenticate = new InternalAuthenticateRequest { Name = request.Name, SimpleToken = SimpleTokens.NewRandomPart() },
        }, cancellationToken).ConfigureAwait(false);
        Stamp(response.Header ??= new ResponseHeader());
        return response;
    }

    /// <summary>Auth status: enabled flag and auth revision.</summary>
    public AuthStatusResponse AuthStatus() =>
        new() { Header = Stamp(new ResponseHeader()), Enabled = AuthStore.Enabled, AuthRevision = AuthStore.Revision };

    /// <summary>A user's roles.</summary>
    public AuthUserGetResponse UserGet(AuthUserGetRequest request)
    {
        var user = AuthStore.FindUser(request.Name) ?? throw EtcdErrors.UserNotFound.ToException();
        return new AuthUserGetResponse { Header = Stamp(new ResponseHeader()), Roles = { user.Roles } };
    }

    /// <summary>All user names.</summary>
    public AuthUserListResponse UserList() => new() { Header = Stamp(new ResponseHeader()), Users = { AuthStore.UserNames() } };

    /// <summary>A role's permissions.</summary>
    public AuthRoleGetResponse RoleGet(AuthRoleGetRequest request)
    {
        var permissions = AuthStore.RolePermissions(request.Role) ?? throw EtcdErrors.RoleNotFound.ToException();
        return new AuthRoleGetResponse { Header = Stamp(new ResponseHeader()), Perm = { permissions } };
    }

    /// <summary>All role names.</summary>
    public AuthRoleListResponse RoleList() => new() { Header = Stamp(new ResponseHeader()), Roles = { AuthStore.RoleNames() } };

    /// <summary>Proposes an auth change (enable, disable, user and role management) and returns its stamped response.</summary>
    public async Task<TResponse> AuthChangeAsync<TResponse>(IMessage request, CancellationToken cancellationToken) where TResponse : IMessage
    {
        var internalRequest = request switch
        {
            AuthEnableRequest r => new InternalRequest { AuthEnable = r },
            AuthDisableRequest r => new InternalRequest { AuthDisable = r },
            AuthUserAddRequest r => new InternalRequest { AuthUserAdd = WithHashedPassword(r) },
            AuthUserDeleteRequest r => new InternalRequest { AuthUserDelete = r },
            AuthUserChangePasswordRequest r => new InternalRequest
            {
                AuthUserChangePassword = new AuthUserChangePasswordRequest { Name = r.Name, HashedPassword = r.HashedPassword.Length > 0 ? r.HashedPassword : PasswordHasher.Hash(r.Password) },
            },
            AuthUserGrantRoleRequest r => new InternalRequest { AuthUserGrantRole = r },
            AuthUserRevokeRoleRequest r => new InternalRequest { AuthUserRevokeRole = r },
            AuthRoleAddRequest r => new InternalRequest { AuthRoleAdd = r },
            AuthRoleDeleteRequest r => new InternalRequest { AuthRoleDelete = r },
            AuthRoleGrantPermissionRequest r => new InternalRequest { AuthRoleGrantPermission = r },
            AuthRoleRevokePermissionRequest r => new InternalRequest { AuthRoleRevokePermission = r },
            _ => throw new ArgumentException($"not an auth change: {request.Descriptor.Name}", nameof(request)),
        };
        var response = (TResponse)await ProposeAsync(internalRequest, cancellationToken).ConfigureAwait(false);
        var header = (ResponseHeader?)response.Descriptor.FindFieldByNumber(1).Accessor.GetValue(response);
        if (header is null)
        {
            header = new ResponseHeader();
            response.Descriptor.FindFieldByNumber(1).Accessor.SetValue(response, header);
        }
        Stamp(header);
        return response;
    }

    /// <summary>The request as proposed: the password replaced by its hash (none with no_password).</summary>
    private static AuthUserAddRequest WithHashedPassword(AuthUserAddRequest request)
    {
        if (request.Name.Length == 0) throw EtcdErrors.UserEmpty.ToException();
        var proposed = new AuthUserAddRequest { Name = request.Name, Options = request.Options };
        if (request.Options?.NoPassword != true)
            proposed.HashedPassword = request.HashedPassword.Length > 0 ? request.HashedPassword : PasswordHasher.Hash(request.Password);
        return proposed;
    }
}
