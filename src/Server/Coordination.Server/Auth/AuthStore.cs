using Authpb;
using Coordination.Server.Errors;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Server.Auth;

/// <summary>
/// The replicated auth state: whether auth is enabled, its revision (bumped by every change), users
/// with their password hashes and roles, and roles with their key permissions. Changed only by
/// applied proposals (<see cref="AuthApplier"/>); read by services on other threads, hence the lock.
/// </summary>
internal sealed class AuthStore
{
    private readonly object _gate = new();
    private readonly SortedDictionary<string, AuthUser> _users = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, List<Permission>> _roles = new(StringComparer.Ordinal);
    private volatile bool _enabled;
    private ulong _revision = 1;

    /// <summary>True once AuthEnable has been applied (until AuthDisable).</summary>
    public bool Enabled => _enabled; // read on every call: lock-free

    /// <summary>Bumped by every applied change.</summary>
    public ulong Revision { get { lock (_gate) return _revision; } }

    /// <summary>The user, or null.</summary>
    public AuthUser? FindUser(string name) { lock (_gate) return _users.GetValueOrDefault(name); }

    /// <summary>User names in order.</summary>
    public IReadOnlyList<string> UserNames() { lock (_gate) return _users.Keys.ToList(); }

    /// <summary>Role names in order (the implicit root role is not listed unless added).</summary>
    public IReadOnlyList<string> RoleNames() { lock (_gate) return _roles.Keys.ToList(); }

    /// <summary>A role's permissions, or null when the role does not exist.</summary>
    public IReadOnlyList<Permission>? RolePermissions(string role) { lock (_gate) return _roles.TryGetValue(role, out var p) ? p.Select(x => x.Clone()).ToList() : null; }

    /// <summary>True when <paramref name="user"/> may use <paramref name="needed"/> on the key or range.</summary>
    public bool IsPermitted(string user, Permission.Types.Type needed, ByteString key, ByteString rangeEnd)
    {
        lock (_gate)
        {
            if (!_users.TryGetValue(user, out var u)) return false;
            if (u.IsRoot) return true;
            var granted = u.Roles.Where(_roles.ContainsKey).SelectMany(r => _roles[r]);
            return KeyPermissions.Covers(granted, needed, key, rangeEnd);
        }
    }

    // ------------------------------------------------------------------ changes (apply thread only)

    internal void Enable()
    {
        lock (_gate)
        {
            if (_enabled) return;
            if (!_users.TryGetValue(AuthUser.RootUser, out var root)) throw EtcdErrors.RootUserNotExist.ToException();
            if (!root.IsRoot) throw EtcdErrors.RootRoleNotExist.ToException();
            _enabled = true;
            _revision++;
        }
    }

    internal void Disable()
    {
        lock (_gate)
        {
            if (!_enabled) return;
            _enabled = false;
            _revision++;
        }
    }

    internal void AddUser(string name, string? passwordHash)
    {
        lock (_gate)
        {
            if (name.Length == 0) throw EtcdErrors.UserEmpty.ToException();
            if (_users.ContainsKey(name)) throw EtcdErrors.UserAlreadyExist.ToException();
            _users[name] = new AuthUser(name, passwordHash, new SortedSet<string>(StringComparer.Ordinal));
            _revision++;
        }
    }

    internal void DeleteUser(string name)
    {
        lock (_gate)
        {
            if (_enabled && name == AuthUser.RootUser) throw EtcdErrors.InvalidAuthManagement.ToException();
            if (!_users.Remove(name)) throw EtcdErrors.UserNotFound.ToException();
            _revision++;
        }
    }

    internal void ChangePassword(string name, string passwordHash)
    {
        lock (_gate)
        {
            if (!_users.TryGetValue(name, out var user)) throw EtcdErrors.UserNotFound.ToException();
            _users[name] = user with { PasswordHash = passwordHash };
            _revision++;
        }
    }

    internal void GrantRole(string userName, string role)
    {
        lock (_gate)
        {
            if (!_users.TryGetValue(userName, out var user)) throw EtcdErrors.UserNotFound.ToException();
            if (role != AuthUser.RootRole && !_roles.ContainsKey(role)) throw EtcdErrors.RoleNotFound.ToException();
            if (user.Roles.Contains(role)) return;
            _users[userName] = user with { Roles = new SortedSet<string>(user.Roles.Append(role), StringComparer.Ordinal) };
            _revision++;
        }
    }

    internal void RevokeRole(string userName, string role)
    {
        lock (_gate)
        {
            if (_enabled && userName == AuthUser.RootUser && role == AuthUser.RootRole) throw EtcdErrors.InvalidAuthManagement.ToException();
            if (!_users.TryGetValue(userName, out var user)) throw EtcdErrors.UserNotFound.ToException();
            if (!user.Roles.Contains(role)) throw EtcdErrors.RoleNotGranted.ToException();
            _users[userName] = user with { Roles = new SortedSet<string>(user.Roles.Where(r => r != role), StringComparer.Ordinal) };
            _revision++;
        }
    }

    internal void AddRole(string role)
    {
        lock (_gate)
        {
            if (role.Length == 0) throw EtcdErrors.RoleEmpty.ToException();
            if (_roles.ContainsKey(role)) throw EtcdErrors.RoleAlreadyExist.ToException();
            _roles[role] = [];
            _revision++;
        }
    }

    internal void DeleteRole(string role)
    {
        lock (_gate)
        {
            if (_enabled && role == AuthUser.RootRole) throw EtcdErrors.InvalidAuthManagement.ToException();
            if (!_roles.Remove(role)) throw EtcdErrors.RoleNotFound.ToException();
            foreach (var user in _users.Values.Where(u => u.Roles.Contains(role)).ToList())
            {
                _users[user.Name] = user with { Roles = new SortedSet<string>(user.Roles.Where(r => r != role), StringComparer.Ordinal) };
            }
            _revision++;
        }
    }

    internal void GrantPermission(string role, Permission permission)
    {
        lock (_gate)
        {
            if (!_roles.TryGetValue(role, out var permissions)) throw EtcdErrors.RoleNotFound.ToException();
            var same = permissions.FindIndex(p => p.Key == permission.Key && p.RangeEnd == permission.RangeEnd);
            if (same >= 0) permissions[same] = permission.Clone();
            else permissions.Add(permission.Clone());
            permissions.Sort((a, b) => Mvcc.KeyComparer.Compare(a.Key, b.Key) is var c && c != 0 ? c : Mvcc.KeyComparer.Compare(a.RangeEnd, b.RangeEnd));
            _revision++;
        }
    }

    internal void RevokePermission(string role, ByteString key, ByteString rangeEnd)
    {
        lock (_gate)
        {
            if (!_roles.TryGetValue(role, out var permissions)) throw EtcdErrors.RoleNotFound.ToException();
            if (permissions.RemoveAll(p => p.Key == key && p.RangeEnd == rangeEnd) == 0) throw EtcdErrors.PermissionNotGranted.ToException();
            _revision++;
        }
    }

    // ------------------------------------------------------------------ image

    /// <summary>A copy of the whole state for a snapshot image.</summary>
    public AuthImage Capture()
    {
        lock (_gate)
        {
            return new AuthImage(_enabled, _revision,
                _users.Values.Select(u => new User { Name = ByteString.CopyFromUtf8(u.Name), Password = ByteString.CopyFromUtf8(u.PasswordHash ?? ""), Roles = { u.Roles }, Options = new UserAddOptions { NoPassword = u.PasswordHash is null } }).ToList(),
                _roles.Select(r => new Role { Name = ByteString.CopyFromUtf8(r.Key), KeyPermission = { r.Value.Select(p => p.Clone()) } }).ToList());
        }
    }

    /// <summary>Replaces the whole state with <paramref name="image"/> (a snapshot installed from the leader).</summary>
    internal void Reset(AuthImage image)
    {
        var restored = Restore(image);
        lock (_gate)
        {
            _users.Clear();
            foreach (var (name, user) in restored._users) _users[name] = user;
            _roles.Clear();
            foreach (var (name, permissions) in restored._roles) _roles[name] = permissions;
            _revision = restored._revision;
            _enabled = restored._enabled;
        }
    }

    /// <summary>Rebuilds a store from <see cref="Capture"/>'s output.</summary>
    public static AuthStore Restore(AuthImage image)
    {
        var store = new AuthStore { _enabled = image.Enabled, _revision = image.Revision };
        foreach (var user in image.Users)
        {
            var name = user.Name.ToStringUtf8();
            store._users[name] = new AuthUser(name, user.Options?.NoPassword == true ? null : user.Password.ToStringUtf8(), new SortedSet<string>(user.Roles, StringComparer.Ordinal));
        }
        foreach (var role in image.Roles) store._roles[role.Name.ToStringUtf8()] = role.KeyPermission.Select(p => p.Clone()).ToList();
        return store;
    }
}

/// <summary>The auth state as stored in a snapshot image.</summary>
internal sealed record AuthImage(bool Enabled, ulong Revision, IReadOnlyList<User> Users, IReadOnlyList<Role> Roles);
