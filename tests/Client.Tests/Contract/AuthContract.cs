using Coordination.Client.Auth;
using Coordination.Client.Kv;
using Coordination.Client.Tests.Fixtures;

namespace Coordination.Client.Tests.Contract;

/// <summary>Auth changes server-wide state, so these tests run on a private server of the target's kind.</summary>
public abstract class AuthContract(ContractTarget target) : ContractBase(target, ContractGroup.Auth)
{
    [Fact]
    public async Task Users_roles_permissions_and_the_token_lifecycle()
    {
        await using var server = await Target.StartPrivateAsync(["--auth-token-ttl", "1"]);
        Assert.SkipWhen(server is null, $"{Target.Kind} cannot start a private server.");
        var url = server!.ClientUrl;
        ICoordinationClient Connect(string? user = null, string? password = null, RecordingLoggerFactory? logs = null) =>
            CoordinationClient.Create(new CoordinationClientOptions { Endpoints = [url], Username = user, Password = password }, logs);

        await using (var setup = Connect())
        {
            await setup.Auth.AddUserAsync("root", "rootpw", Ct);
            await setup.Auth.GrantRoleAsync("root", "root", Ct);
            await setup.Auth.AddUserAsync("alice", "alicepw", Ct);
            await setup.Auth.AddRoleAsync("reader", Ct);
            await setup.Auth.GrantPermissionAsync("reader", Permission.ForPrefix(PermissionType.Read, "/pub/"), Ct);
            await setup.Auth.GrantRoleAsync("alice", "reader", Ct);
            await setup.Kv.PutAsync("/pub/x", "public", cancellationToken: Ct);
            await setup.Auth.EnableAsync(Ct);
        }

        await using (var anonymous = Connect())
        {
            var e = await Assert.ThrowsAsync<EtcdPermissionDeniedException>(() => anonymous.Kv.GetAsync("/pub/x", cancellationToken: Ct));
            Assert.Equal("etcdserver: user name is empty", e.Message);
        }

        await using (var wrong = Connect("alice", "nope"))
        {
            var e = await Assert.ThrowsAsync<EtcdAuthenticationFailedException>(() => wrong.Kv.GetAsync("/pub/x", cancellationToken: Ct));
            Assert.Equal("etcdserver: authentication failed, invalid user ID or password", e.Message);
        }

        await using (var alice = Connect("alice", "alicepw"))
        {
            Assert.Equal("public", await alice.Kv.GetStringAsync("/pub/x", Ct));
            var denied = await Assert.ThrowsAsync<EtcdPermissionDeniedException>(() => alice.Kv.PutAsync("/pub/x", "mine", cancellationToken: Ct));
            Assert.Equal("etcdserver: permission denied", denied.Message);
            await Assert.ThrowsAsync<EtcdPermissionDeniedException>(() => alice.Kv.GetAsync("/private", cancellationToken: Ct));
        }

        var logs = new RecordingLoggerFactory();
        await using (var root = Connect("root", "rootpw", logs))
        {
            await root.Kv.PutAsync("/private", "secret", cancellationToken: Ct);
            Assert.Equal(["alice", "root"], (await root.Auth.ListUsersAsync(Ct)).Order());
            Assert.Equal(["reader"], await root.Auth.GetUserRolesAsync("alice", Ct));
            var permission = Assert.Single(await root.Auth.GetRolePermissionsAsync("reader", Ct));
            Assert.Equal(Permission.ForPrefix(PermissionType.Read, "/pub/"), permission);
            var refreshes = logs.Count("Auth token refreshed");
            Assert.InRange(refreshes, 1, 2);

            // The simple token expires after 1 s idle: the next call is rejected with "invalid auth
            // token", and the client authenticates again and repeats it by itself.
            await Task.Delay(TimeSpan.FromSeconds(3), Ct);
            Assert.Equal("secret", await root.Kv.GetStringAsync("/private", Ct));
            Assert.Equal(refreshes + 1, logs.Count("Auth token refreshed"));

            await root.Auth.RevokePermissionAsync("reader", "/pub/", System.Text.Encoding.UTF8.GetString(KeyRange.PrefixEnd("/pub/"u8)), Ct);
            Assert.Empty(await root.Auth.GetRolePermissionsAsync("reader", Ct));
            await root.Auth.DisableAsync(Ct);
        }

        await using (var open = Connect())
        {
            Assert.Equal("secret", await open.Kv.GetStringAsync("/private", Ct));
        }
    }

    [Fact]
    public async Task A_watch_reopened_after_its_token_expired_authenticates_again_and_misses_nothing()
    {
        await using var server = await Target.StartPrivateAsync(["--auth-token-ttl", "1"]);
        Assert.SkipWhen(server is null, $"{Target.Kind} cannot start a private server.");
        await using (var setup = CoordinationClient.Create(server!.ClientUrl))
        {
            await setup.Auth.AddUserAsync("root", "rootpw", Ct);
            await setup.Auth.GrantRoleAsync("root", "root", Ct);
            await setup.Auth.EnableAsync(Ct);
        }

        await using var proxy = new TcpProxy(server.ClientPort);
        var logs = new RecordingLoggerFactory();
        await using var watching = CoordinationClient.Create(new CoordinationClientOptions { Endpoints = [proxy.Url], Username = "root", Password = "rootpw" }, logs);
        await using var writer = CoordinationClient.Create(new CoordinationClientOptions { Endpoints = [server.ClientUrl], Username = "root", Password = "rootpw" });
        await using var watch = await watching.Watch.WatchPrefixAsync("/w/", cancellationToken: Ct);
        var first = await writer.Kv.PutAsync("/w/1", "before", cancellationToken: Ct);

        await Task.Delay(TimeSpan.FromSeconds(3), Ct); // the watching client's token expires
        proxy.DropAll();
        var second = await writer.Kv.PutAsync("/w/2", "after", cancellationToken: Ct);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        var seen = new List<long>();
        await foreach (var e in watch.EventsAsync(timeout.Token))
        {
            seen.Add(e.Kv.ModRevision);
            if (seen.Count == 2)
            {
                break;
            }
        }

        Assert.Equal([first.Header.Revision, second.Header.Revision], seen);
        Assert.True(logs.Count("Auth token refreshed") >= 2, "the watch stream was not re-authenticated");
    }
}

[Collection(EtcdCollection.Name)]
public sealed class AuthOnEtcd(EtcdTarget target) : AuthContract(target);

[Collection(CoordinationCollection.Name)]
public sealed class AuthOnCoordination(CoordinationTarget target) : AuthContract(target);
