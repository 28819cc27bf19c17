using Authpb;
using Coordination.Server.Auth;
using Coordination.Server.Errors;
using Google.Protobuf;

namespace Coordination.Server.Tests.Auth;

public sealed class AuthStoreTests
{
    private static EtcdError ErrorOf(Action change) => Assert.Throws<EtcdException>(change).Error;

    [Fact]
    public void Enabling_needs_a_root_user_with_the_root_role()
    {
        var store = new AuthStore();
        Assert.Equal(EtcdErrors.RootUserNotExist, ErrorOf(store.Enable));
        store.AddUser("root", PasswordHasher.Hash("pw"));
        Assert.Equal(EtcdErrors.RootRoleNotExist, ErrorOf(store.Enable));
        store.GrantRole("root", "root");
        store.Enable();
        Assert.True(store.Enabled);
    }

    [Fact]
    public void While_enabled_root_cannot_be_deleted_or_lose_its_role()
    {
        var store = new AuthStore();
        store.AddUser("root", null);
        store.GrantRole("root", "root");
        store.Enable();
        Assert.Equal(EtcdErrors.InvalidAuthManagement, ErrorOf(() => store.DeleteUser("root")));
        Assert.Equal(EtcdErrors.InvalidAuthManagement, ErrorOf(() => store.RevokeRole("root", "root")));
        store.Disable();
        store.RevokeRole("root", "root");
        store.DeleteUser("root");
        Assert.Empty(store.UserNames());
    }

    [Fact]
    public void Users_and_roles_report_etcds_errors()
    {
        var store = new AuthStore();
        Assert.Equal(EtcdErrors.UserEmpty, ErrorOf(() => store.AddUser("", null)));
        store.AddUser("alice", null);
        Assert.Equal(EtcdErrors.UserAlreadyExist, ErrorOf(() => store.AddUser("alice", null)));
        Assert.Equal(EtcdErrors.UserNotFound, ErrorOf(() => store.DeleteUser("bob")));
        Assert.Equal(EtcdErrors.RoleNotFound, ErrorOf(() => store.GrantRole("alice", "reader")));
        Assert.Equal(EtcdErrors.RoleEmpty, ErrorOf(() => store.AddRole("")));
        store.AddRole("reader");
        Assert.Equal(EtcdErrors.RoleAlreadyExist, ErrorOf(() => store.AddRole("reader")));
        Assert.Equal(EtcdErrors.RoleNotGranted, ErrorOf(() => store.RevokeRole("alice", "reader")));
        Assert.Equal(EtcdErrors.PermissionNotGranted, ErrorOf(() => store.RevokePermission("reader", ByteString.CopyFromUtf8("k"), ByteString.Empty)));
    }

    [Fact]
    public void Permissions_follow_roles_and_deleting_a_role_takes_it_from_its_users()
    {
        var store = new AuthStore();
        store.AddUser("alice", null);
        store.AddRole("reader");
        store.GrantPermission("reader", new Permission { PermType = Permission.Types.Type.Read, Key = ByteString.CopyFromUtf8("a"), RangeEnd = ByteString.CopyFromUtf8("b") });
        store.GrantRole("alice", "reader");
        Assert.True(store.IsPermitted("alice", Permission.Types.Type.Read, ByteString.CopyFromUtf8("a1"), ByteString.Empty));
        Assert.False(store.IsPermitted("alice", Permission.Types.Type.Write, ByteString.CopyFromUtf8("a1"), ByteString.Empty));

        store.DeleteRole("reader");
        Assert.Empty(store.FindUser("alice")!.Roles);
        Assert.False(store.IsPermitted("alice", Permission.Types.Type.Read, ByteString.CopyFromUtf8("a1"), ByteString.Empty));
    }

    [Fact]
    public void Every_change_bumps_the_revision_and_the_image_round_trips()
    {
        var store = new AuthStore();
        var before = store.Revision;
        store.AddUser("root", PasswordHasher.Hash("pw"));
        store.AddUser("nopw", null);
        store.GrantRole("root", "root");
        store.AddRole("r");
        store.GrantPermission("r", new Permission { PermType = Permission.Types.Type.Readwrite, Key = ByteString.CopyFromUtf8("k") });
        store.Enable();
        Assert.Equal(before + 6, store.Revision);

        var copy = AuthStore.Restore(store.Capture());
        Assert.True(copy.Enabled);
        Assert.Equal(store.Revision, copy.Revision);
        Assert.Equal(store.UserNames(), copy.UserNames());
        Assert.True(PasswordHasher.Verify("pw", copy.FindUser("root")!.PasswordHash!));
        Assert.Null(copy.FindUser("nopw")!.PasswordHash);
        Assert.Equal(store.RolePermissions("r"), copy.RolePermissions("r"));
    }

    [Fact]
    public void Password_hashes_verify_only_the_right_password()
    {
        var hash = PasswordHasher.Hash("secret");
        Assert.True(PasswordHasher.Verify("secret", hash));
        Assert.False(PasswordHasher.Verify("Secret", hash));
        Assert.False(PasswordHasher.Verify("secret", "not-a-hash"));
        Assert.NotEqual(hash, PasswordHasher.Hash("secret"));
    }
}
