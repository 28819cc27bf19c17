using Coordination.Server.Node;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Coordination.Server.Services;

/// <summary>etcd's Maintenance service: status, hashes, alarms, snapshot streaming and defragmentation.</summary>
internal sealed class MaintenanceService(CoordinationNode node) : Maintenance.MaintenanceBase
{
    /// <summary>etcd streams snapshots in 32 KiB chunks.</summary>
    private const int ChunkBytes = 32 * 1024;

    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context) =>
        Task.FromResult(node.Status());

    public override Task<HashResponse> Hash(HashRequest request, ServerCallContext context) =>
        Task.FromResult(node.Hash());

    public override Task<HashKVResponse> HashKV(HashKVRequest request, ServerCallContext context) =>
        Task.FromResult(node.HashKV(request));

    public override Task<AlarmResponse> Alarm(AlarmRequest request, ServerCallContext context) =>
        node.AlarmAsync(request, context.CancellationToken);

    public override Task<DefragmentResponse> Defragment(DefragmentRequest request, ServerCallContext context) =>
        // The store lives in memory with no free pages to reclaim; etcd 3.4 answers without a header.
        Task.FromResult(new DefragmentResponse());

    public override async Task Snapshot(SnapshotRequest request, IServerStreamWriter<SnapshotResponse> responseStream, ServerCallContext context)
    {
        // A consistent image of the applied state, followed (as etcd does) by one message whose blob is
        // the SHA-256 of everything sent before it.
        // etcdctl 3.4 recognises the trailing hash only when the image is a whole number of 512-byte
        // pages (a bbolt file is); zero padding after the image is ignored when restoring.
        var image = PadToPages(await node.SnapshotImageAsync(context.CancellationToken).ConfigureAwait(false));
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var remaining = (ulong)image.Length;
        for (var offset = 0; offset < image.Length; offset += ChunkBytes)
        {
            var length = Math.Min(ChunkBytes, image.Length - offset);
            var chunk = image.AsSpan(offset, length);
            sha.AppendData(chunk);
            remaining -= (ulong)length;
            await responseStream.WriteAsync(new SnapshotResponse { RemainingBytes = remaining, Blob = ByteString.CopyFrom(chunk) }, context.CancellationToken).ConfigureAwait(false);
        }
        await responseStream.WriteAsync(new SnapshotResponse { Blob = ByteString.CopyFrom(sha.GetHashAndReset()) }, context.CancellationToken).ConfigureAwait(false);
    }

    private static byte[] PadToPages(byte[] image)
    {
        var padded = (image.Length + 511) / 512 * 512;
        if (padded == image.Length) return image;
        Array.Resize(ref image, padded);
        return image;
    }

    public override Task<MoveLeaderResponse> MoveLeader(MoveLeaderRequest request, ServerCallContext context) =>
        node.MoveLeaderAsync(request, context.CancellationToken);
}
