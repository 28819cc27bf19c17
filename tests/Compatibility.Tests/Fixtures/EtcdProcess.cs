namespace Coordination.Compatibility.Tests.Fixtures;

/// <summary>A real single-member etcd 3.4 (Debian's <c>/usr/bin/etcd</c>, installed by test.sh).</summary>
internal sealed class EtcdProcess : ServerProcess
{
    public const string DefaultPath = "/usr/bin/etcd";

    public EtcdProcess() : base("etcd")
    {
    }

    public static string ExecutablePath =>
        Environment.GetEnvironmentVariable("COMPAT_ETCD_PATH") is { Length: > 0 } path ? path : DefaultPath;

    public static async Task<EtcdProcess> StartNewAsync(CancellationToken cancellationToken = default)
    {
        var etcd = new EtcdProcess();
        try
        {
            await etcd.StartAsync(cancellationToken).ConfigureAwait(false);
            return etcd;
        }
        catch
        {
            await etcd.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    protected override (string FileName, IReadOnlyList<string> Arguments) Command(int clientPort, int peerPort)
    {
        var client = $"http://127.0.0.1:{clientPort}";
        var peer = $"http://127.0.0.1:{peerPort}";
        return (ExecutablePath,
        [
            "--name", "default",
            "--data-dir", DataDir,
            "--listen-client-urls", client,
            "--advertise-client-urls", client,
            "--listen-peer-urls", peer,
            "--initial-advertise-peer-urls", peer,
            "--initial-cluster", $"default={peer}",
            "--initial-cluster-state", "new",
        ]);
    }
}
