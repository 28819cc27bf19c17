using System.Diagnostics;

namespace Coordination.Compatibility.Tests.Scenarios;

// Lease scenarios (etcdctl `lease ...` and `put --lease`), kept apart from the rest of the catalogue.
// Remaining TTLs count down on each server's own clock: the normalizer compares them with a
// tolerance (JsonNormalizer.RemainingTtlTolerance), everything else exactly.
internal static partial class Catalogue
{
    public const string Lease = "lease";

    /// <summary>How long a scenario waits for a lease of the minimum TTL (2 s) to expire on a server.</summary>
    private static readonly TimeSpan ExpiryDeadline = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Waits on each server until <paramref name="key"/> is gone (its lease expired), polling with
    /// etcdctl: the servers run on real clocks, so there is no clock to advance.
    /// </summary>
    private static CheckStep WaitUntilDeleted(string key) => Check($"wait until '{key}' is deleted by its lease's expiry", async side =>
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var result = await side.CtlAsync($"get {key} --keys-only", "simple").ConfigureAwait(false);
            Assert.True(result.ExitCode == 0, $"get failed on {side.Role}: {result}");
            if (result.Stdout.Trim().Length == 0)
            {
                return;
            }

            Assert.True(clock.Elapsed < ExpiryDeadline, $"'{key}' still exists on {side.Role} after {ExpiryDeadline.TotalSeconds} s");
            await Task.Delay(200).ConfigureAwait(false);
        }
    });

    private static IEnumerable<Scenario> LeaseScenarios()
    {
        yield return S(Lease, "lease-grant",
            Ctl("lease grant 60").CaptureLease("L"), Ctl("lease grant 100", "simple"), Ctl("lease grant 1"), Ctl("lease grant 0"),
            Ctl("lease timetolive {L}"));
        yield return S(Lease, "lease-grant-errors",
            Ctl("lease grant 9000000001"), Ctl("lease grant 9000000000"), Ctl("lease grant"), Ctl("lease grant abc"), Ctl("lease grant -5"));
        yield return S(Lease, "lease-timetolive-keys",
            Ctl("lease grant 60").CaptureLease("L"), Ctl("put --lease {L} k2 v"), Ctl("put --lease {L} k1 v"), Ctl("put k3 v"),
            Ctl("lease timetolive {L}"), Ctl("lease timetolive --keys {L}"), Ctl("lease timetolive --keys {L}", "simple"),
            Ctl("lease timetolive 1234"), Ctl("lease timetolive --keys 1234", "simple"), Ctl("get k1"));
        yield return S(Lease, "lease-list",
            Ctl("lease list"), Ctl("lease grant 60").CaptureLease("A"), Ctl("lease grant 70").CaptureLease("B"),
            Ctl("lease grant 80"), Ctl("lease list"), Ctl("lease revoke {B}"), Ctl("lease list"));
        yield return S(Lease, "lease-keep-alive-once",
            Ctl("lease grant 60").CaptureLease("L"), Ctl("lease keep-alive --once {L}"), Ctl("lease keep-alive --once {L}", "simple"),
            Ctl("lease timetolive {L}"), Ctl("lease keep-alive --once 1234"), Ctl("lease keep-alive --once 1234", "simple"));
        yield return S(Lease, "lease-revoke",
            Ctl("lease grant 60").CaptureLease("L"), Ctl("put --lease {L} r/a 1"), Ctl("put --lease {L} r/b 2"), Ctl("put r/c 3"),
            Ctl("lease revoke {L}"), Ctl("get r/ --prefix"), Ctl("get r/a --rev 4"), Ctl("lease timetolive {L}"),
            Ctl("lease revoke {L}"), Ctl("lease revoke {L}", "simple"), Ctl("lease revoke 1234"));
        yield return S(Lease, "put-with-lease",
            Ctl("lease grant 60").CaptureLease("L"), Ctl("lease grant 60").CaptureLease("M"), Ctl("put --lease {L} k v1"),
            Ctl("get k"), Ctl("put --lease {M} k v2 --prev-kv"), Ctl("put --ignore-lease k v3"), Ctl("get k"),
            Ctl("lease timetolive --keys {L}"), Ctl("lease timetolive --keys {M}"), Ctl("put k v4"), Ctl("lease timetolive --keys {M}"));
        yield return S(Lease, "lease-expiry",
            "A 2 s lease (the minimum) expires on each server's own clock; its keys go in one revision.",
            Ctl("lease grant 2").CaptureLease("L"), Ctl("put --lease {L} e/1 v"), Ctl("put --lease {L} e/2 v"), Ctl("put e/3 v"),
            WaitUntilDeleted("e/2"), Ctl("get e/ --prefix"), Ctl("get e/ --prefix --rev 5"), Ctl("lease timetolive {L}"),
            Ctl("lease keep-alive --once {L}"), Ctl("put --lease {L} e/4 v"), Ctl("lease list"));
    }
}
