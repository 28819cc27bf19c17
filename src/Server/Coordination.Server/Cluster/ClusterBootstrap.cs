using Coordination.Server.Apply.Protocol;
using Coordination.Server.Hosting;
using Coordination.Server.Node;
using Coordination.Server.Peer.Protocol;
using Google.Protobuf;
using Grpc.Net.Client;

namespace Coordination.Server.Cluster;

/// <summary>
/// The membership a member starts from, before its log says more: with
/// <c>--initial-cluster-state new</c> every member of <c>--initial-cluster</c> is a voter (ids derived
/// from peer URLs and the token, names from the flag); with <c>existing</c> the member asks a running
/// member over the peer API for the cluster id and the member table (it was added with
/// <c>etcdctl member add</c>). The result is kept in <c>member/cluster.pb</c>, so a restart starts
/// from the same membership whatever the flags say and whoever is reachable, and the replay of the
/// log from there gives the same table on every member.
/// </summary>
internal static class ClusterBootstrap
{
    private const string FileName = "cluster.pb";

    /// <summary>Loads or establishes the bootstrap membership of this member.</summary>
    public static async Task<ClusterResponse> ResolveAsync(ServerOptions options, MemberIdentity identity, string memberDir, ILogger logger, CancellationToken cancellationToken)
    {
        var path = Path.Combine(memberDir, FileName);
        if (File.Exists(path)) return ClusterResponse.Parser.ParseFrom(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false));

        var cluster = options.InitialClusterState == "existing"
            ? await JoinAsync(options, identity, logger, cancellationToken).ConfigureAwait(false)
            : FromFlags(options, identity);
        var temp = path + ".tmp";
        await File.WriteAllBytesAsync(temp, cluster.ToByteArray(), cancellationToken).ConfigureAwait(false);
        using (var file = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite)) file.Flush(flushToDisk: true);
        File.Move(temp, path, overwrite: true);
        return cluster;
    }

    /// <summary>Every member of <c>--initial-cluster</c> as a voter.</summary>
    public static ClusterResponse FromFlags(ServerOptions options, MemberIdentity identity)
    {
        var response = new ClusterResponse { ClusterId = identity.ClusterId };
        foreach (var group in options.InitialCluster.GroupBy(m => m.Name, StringComparer.Ordinal))
        {
            var urls = group.Select(m => m.PeerUrl).ToList();
            var record = new MemberRecord { Id = MemberIdentity.MemberIdOf(urls, options.InitialClusterToken), Name = group.Key };
            record.PeerUrls.AddRange(urls.Select(CoordinationNode.Canonical));
            response.Members.Add(record);
        }
        if (response.Members.All(m => m.Id != identity.MemberId))
        {
            var self = new MemberRecord { Id = identity.MemberId, Name = identity.Name };
            self.PeerUrls.AddRange(options.InitialAdvertisePeerUrls.Select(CoordinationNode.Canonical));
            response.Members.Add(self);
        }
        if (response.Members.Count == 1)
        {
            // A single member needs no publication to know its own client URLs.
            response.Members[0].ClientUrls.AddRange(options.AdvertiseClientUrls.Select(CoordinationNode.Canonical));
        }
        return response;
    }

    private static async Task<ClusterResponse> JoinAsync(ServerOptions options, MemberIdentity identity, ILogger logger, CancellationToken cancellationToken)
    {
        var self = options.InitialAdvertisePeerUrls.Select(CoordinationNode.Canonical).ToHashSet(StringComparer.Ordinal);
        var peers = options.InitialCluster.Where(m => !self.Contains(CoordinationNode.Canonical(m.PeerUrl))).ToList();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var (name, url) in peers)
            {
                try
                {
                    using var channel = GrpcChannel.ForAddress(url);
                    var client = new Peer.Protocol.Peer.PeerClient(channel);
                    var cluster = await client.ClusterAsync(new ClusterRequest(), deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: cancellationToken).ConfigureAwait(false);
                    if (cluster.Members.All(m => m.Id != identity.MemberId))
                        throw new StartupException($"member {identity.MemberId:x} (peer URLs {string.Join(",", self)}) has not been added to the cluster; run 'etcdctl member add' first");
                    logger.LogInformation("joining cluster {ClusterId:x} via {Name} ({Url}) with {Count} members", cluster.ClusterId, name, url, cluster.Members.Count);
                    return cluster;
                }
                catch (Grpc.Core.RpcException ex)
                {
                    last = ex;
                }
            }
            await Task.Delay(500, cancellationToken).ConfigureAwait(false);
        }
        throw new StartupException($"cannot reach any member of --initial-cluster to join the existing cluster: {last?.Message}", last);
    }
}
