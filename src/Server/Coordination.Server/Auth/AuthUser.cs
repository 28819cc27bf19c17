namespace Coordination.Server.Auth;

/// <summary>One user of the auth store: a password hash (null with no_password) and granted roles.</summary>
internal sealed record AuthUser(string Name, string? PasswordHash, IReadOnlySet<string> Roles)
{
    /// <summary>The name of the role that may do everything.</summary>
    public const string RootRole = "root";

    /// <summary>The user that must exist, with <see cref="RootRole"/>, before auth is enabled.</summary>
    public const string RootUser = "root";

    /// <summary>True when the user holds the root role.</summary>
    public bool IsRoot => Roles.Contains(RootRole);
}
