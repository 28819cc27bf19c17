using Coordination.Compatibility.Tests.Fixtures;

namespace Coordination.Client.Tests.Fixtures;

/// <summary>A single-member etcd 3.4 with extra flags (for example <c>--auth-token-ttl 1</c>).</summary>
internal sealed class ConfiguredEtcdProcess(string[] extraArgs) : ServerProcess("etcd")
{
    protected override (string FileName, IReadOnlyList<string> Arguments) Command(int clientPort, int peerPort)
    {
        var client = $"http://127.0.0.1:{clientPort}";
        var peer = $"http://127.0.0.1:{peerPort}";
        return (EtcdProcess.ExecutablePath,
        [
            "--name", "default",
            "--data-dir", DataDir,
            "--listen-client-urls", client,
            "--advertise-client-urls", client,
            "--listen-peer-urls", peer,
            "--initial-advertise-peer-urls", peer,
            "--initial-cluster", $"default={peer}",
            "--initial-cluster-state", "new",
            .. extraArgs,
        ]);
    }
}
