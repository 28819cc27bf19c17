namespace Coordination.Compatibility.Tests.Scenarios;

// etcdctl `user`, `role` and `auth`: users with passwords (given as name:password with
// --interactive=false), roles with key permissions, enabling auth, and requests as users.
internal static partial class Catalogue
{
    public const string Auth = "auth";

    private static IEnumerable<Scenario> AuthScenarios()
    {
        yield return S(Auth, "auth-users-roles-permissions",
            Ctl("user add root:rootpw --interactive=false"), Ctl("user grant-role root root"),
            Ctl("user add alice:alicepw --interactive=false"),
            Ctl("role add reader"), Ctl("role grant-permission reader read /pub/ --prefix"),
            Ctl("role grant-permission reader readwrite /own"),
            Ctl("user grant-role alice reader"),
            Ctl("role get reader"), Ctl("user get alice"), Ctl("user get root"), Ctl("user list"), Ctl("role list"),
            Put("/pub/x", "public"), Put("/secret", "s"),
            Ctl("auth enable", "simple"),
            Ctl("get /pub/x"),
            Ctl("--user alice:alicepw get /pub/x"),
            Ctl("--user alice:alicepw get /pub/ --prefix"),
            Ctl("--user alice:alicepw put /pub/x mine"),
            Ctl("--user alice:alicepw put /own mine"),
            Ctl("--user alice:alicepw get /secret"),
            Ctl("--user alice:alicepw get / --prefix"),
            Ctl("--user alice:wrong get /pub/x"),
            Ctl("--user alice:alicepw user list"),
            Ctl("--user alice:alicepw user get alice"),
            Ctl("--user alice:alicepw role get reader"),
            Ctl("--user root:rootpw get / --prefix"),
            Ctl("--user root:rootpw user delete root"),
            Ctl("--user root:rootpw user revoke-role root root"),
            Ctl("--user root:rootpw role revoke-permission reader /pub/ --prefix"),
            Ctl("--user root:rootpw role get reader"),
            Ctl("--user root:rootpw auth disable", "simple"),
            Ctl("get /secret"));

        yield return S(Auth, "auth-errors",
            "Errors of user and role management with auth off; enabling without a root user; etcdctl grants root the root role when enabling.",
            Ctl("auth enable", "simple"),
            Ctl("user add root:rootpw --interactive=false"),
            Ctl("user add root:again --interactive=false"),
            Ctl("user get nobody"), Ctl("user delete nobody"),
            Ctl("user grant-role root nosuchrole"),
            Ctl("role add r"), Ctl("role add r"), Ctl("role get nosuchrole"), Ctl("role delete nosuchrole"),
            Ctl("user revoke-role root r"),
            Ctl("role revoke-permission r /k"),
            Ctl("user add nopw --no-password"), Ctl("user get nopw"),
            Ctl("role delete r"), Ctl("role list"), Ctl("user delete nopw"), Ctl("user list"),
            Ctl("auth enable", "simple"), Ctl("--user root:rootpw user get root"),
            Ctl("--user root:rootpw auth disable", "simple"));
    }
}
