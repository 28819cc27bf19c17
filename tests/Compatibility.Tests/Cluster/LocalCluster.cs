using System.Diagnostics;
using Coordination.Compatibility.Tests.Fixtures;

namespace Coordination.Compatibility.Tests.Cluster;

/// <summary>
/// A cluster of our server processes on loopback, bootstrapped with etcd's flags
/// (<c>--initial-cluster</c>, <c>--initial-cluster-state new</c>), with helpers to find the leader,
/// add members that join with <c>existing</c>, and run etcdctl against every member. Disposing
/// kills every member and deletes the data directories.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    /// <summary>Cluster tests run one at a time (each starts several processes on a small machine).</summary>
    public const string Collection = "process clusters";

    /// <summary>The election timeout the members run with (etcd's default).</summary>
    public const int ElectionTimeoutMs = 1000;

    /// <summary>The heartbeat interval the members run with (etcd's default).</summary>
    public const int HeartbeatIntervalMs = 100;

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"compat-cluster-{Guid.NewGuid():N}");
    private readonly string _serverDll = ServerLocator.FindServerDll();
    private readonly List<ClusterMember> _members = [];

    private readonly string[] _extraArgs;

    private LocalCluster(string[] extraArgs)
    {
        _extraArgs = [.. DefaultArgs, .. extraArgs];
        Directory.CreateDirectory(_root);
    }

    public IReadOnlyList<ClusterMember> Members => _members;

    /// <summary>Every member's client URL, comma-separated (etcdctl's --endpoints).</summary>
    public string Endpoints => string.Join(",", _members.Select(m => m.ClientUrl));

    private static string[] DefaultArgs =>
        ["--election-timeout", ElectionTimeoutMs.ToString(), "--heartbeat-interval", HeartbeatIntervalMs.ToString()];

    /// <summary>
    /// Starts <paramref name="size"/> members and waits until they agree on a leader. Ports are
    /// picked free but may be taken by another process before a member binds them: then the whole
    /// cluster is started again on new ports (up to three times).
    /// </summary>
    public static async Task<LocalCluster> StartAsync(int size, CancellationToken cancellationToken, params string[] extraArgs)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryStartAsync(size, extraArgs, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException) when (attempt < 3)
            {
            }
        }
    }

    private static async Task<LocalCluster> TryStartAsync(int size, string[] extraArgs, CancellationToken cancellationToken)
    {
        var cluster = new LocalCluster(extraArgs);
        try
        {
            for (var i = 1; i <= size; i++) cluster._members.Add(new ClusterMember($"m{i}", cluster._root, cluster._serverDll, cluster._extraArgs));
            var initialCluster = string.Join(",", cluster._members.Select(m => $"{m.Name}={m.PeerUrl}"));
            foreach (var member in cluster._members) member.Start(initialCluster, "new");
            await cluster.WaitForLeaderAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Waits until every running member reports the same leader, which is itself running; returns it.
    /// </summary>
    public async Task<ClusterMember> WaitForLeaderAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var running = _members.Where(m => m.IsRunning).ToList();
            var statuses = await Task.WhenAll(running.Select(m => m.TryStatusAsync(cancellationToken))).ConfigureAwait(false);
            if (statuses.All(s => s is not null) && statuses.Select(s => s!.Leader).Distinct().Count() == 1 && statuses[0]!.Leader != 0)
            {
                var leaderId = statuses[0]!.Leader;
                var index = Array.FindIndex(statuses, s => s!.Header.MemberId == leaderId);
                if (index >= 0) return running[index];
            }
            if (clock.Elapsed > timeout || _members.Any(m => m.HasExitedUnexpectedly)) throw new TimeoutException($"no agreed leader within {timeout}\n{Logs()}");
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The member id of <paramref name="member"/>, from its status header.</summary>
    public static async Task<ulong> MemberIdAsync(ClusterMember member, CancellationToken cancellationToken) =>
        (await member.TryStatusAsync(cancellationToken).ConfigureAwait(false))?.Header.MemberId
            ?? throw new InvalidOperationException($"{member.Name} does not answer");

    /// <summary>A new member object with fresh ports (not started, not yet added).</summary>
    public ClusterMember NewMember(string name)
    {
        var member = new ClusterMember(name, _root, _serverDll, _extraArgs);
        _members.Add(member);
        return member;
    }

    /// <summary>Forgets a member (after it was removed); its process is killed.</summary>
    public async Task ForgetAsync(ClusterMember member)
    {
        _members.Remove(member);
        await member.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Runs etcdctl against one member.</summary>
    public static Task<EtcdctlResult> EtcdctlAsync(ClusterMember member, string format, CancellationToken cancellationToken, params string[] args) =>
        Etcdctl.RunAsync(member.ClientUrl, args, format, cancellationToken: cancellationToken);

    /// <summary>
    /// A membership change through etcdctl, asked again while the member answers "unhealthy cluster":
    /// as etcd (<c>--strict-reconfig-check</c>), a member refuses changes until it has reached every
    /// voter for 5 s, which a cluster just started or just changed has not.
    /// </summary>
    public static async Task<EtcdctlResult> ReconfigureAsync(ClusterMember member, string format, CancellationToken cancellationToken, params string[] args)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var result = await EtcdctlAsync(member, format, cancellationToken, args).ConfigureAwait(false);
            if (!result.Stderr.Contains("etcdserver: unhealthy cluster", StringComparison.Ordinal) || DateTime.UtcNow > deadline) return result;
            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Every member's output, for failure messages.</summary>
    public string Logs() => string.Join("\n", _members.Select(m => $"===== {m.Name}\n{m.Log.Tail(4000)}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var member in _members) await member.DisposeAsync().ConfigureAwait(false);
        try { Directory.Delete(_root, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}

/// <summary>Serializes the cluster tests (see <see cref="LocalCluster.Collection"/>).</summary>
[CollectionDefinition(LocalCluster.Collection, DisableParallelization = true)]
public sealed class LocalClusterCollection;
