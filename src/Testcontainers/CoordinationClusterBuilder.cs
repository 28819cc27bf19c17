namespace Coordination.Testcontainers;

/// <summary>
/// Configures a cluster of our server (or of etcd: same flags, another image) in containers.
/// <code>await using var cluster = await new CoordinationClusterBuilder().WithMembers(3).StartAsync();</code>
/// then give <see cref="CoordinationCluster.Endpoints"/> to a client.
/// </summary>
public sealed class CoordinationClusterBuilder
{
    /// <summary>The image name <c>tools/containers/build-images.sh</c> gives our server.</summary>
    public const string DefaultImage = "coordination-server:test";

    private string _image = DefaultImage;
    private int _members = 3;
    private string _token = "coordination-cluster";
    private readonly List<string> _extraArguments = [];

    /// <summary>The image to run (our server, or an etcd 3.4/3.5 image taking etcd's flags). Default <see cref="DefaultImage"/>.</summary>
    public CoordinationClusterBuilder WithImage(string image)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(image);
        _image = image;
        return this;
    }

    /// <summary>How many members to start (1 to 7). Default 3.</summary>
    public CoordinationClusterBuilder WithMembers(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, 7);
        _members = count;
        return this;
    }

    /// <summary>The <c>--initial-cluster-token</c>. Default <c>coordination-cluster</c>.</summary>
    public CoordinationClusterBuilder WithClusterToken(string token)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        _token = token;
        return this;
    }

    /// <summary>More server flags for every member, e.g. <c>"--heartbeat-interval", "50"</c>.</summary>
    public CoordinationClusterBuilder WithArguments(params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        _extraArguments.AddRange(arguments);
        return this;
    }

    /// <summary>Creates a network, starts every member at once and waits until each answers <c>/health</c> (bounded by two minutes).</summary>
    public Task<CoordinationCluster> StartAsync(CancellationToken cancellationToken = default) =>
        CoordinationCluster.StartAsync(_image, _members, _token, [.. _extraArguments], cancellationToken);
}
