using System.Security.Cryptography;
using Coordination.Raft.Protocol;
using Coordination.Server.Node;
using Coordination.Server.StateMachine;
using Coordination.Server.Storage.Snapshots;

namespace Coordination.Server.Hosting;

/// <summary>
/// Seeds an empty data directory from a file written by <c>etcdctl snapshot save</c> against our
/// server: the state image followed by its 32-byte SHA-256. The image becomes the member's first
/// snapshot; a data directory that already holds state is left alone, so the same command line
/// can be used to restart the member.
/// </summary>
internal static class SnapshotRestore
{
    public static void Seed(string file, Snapshotter snapshotter, string walDir, MemberIdentity identity, ILogger logger)
    {
        var hasWal = Directory.Exists(walDir) && Directory.EnumerateFiles(walDir, "*.wal").Any();
        if (hasWal || snapshotter.TryLoadNewest(out _))
        {
            logger.LogInformation("--restore-from-snapshot ignored: the data directory already holds state");
            return;
        }
        byte[] bytes;
        try { bytes = File.ReadAllBytes(file); }
        catch (IOException ex) { throw new StartupException($"cannot read snapshot file {file}: {ex.Message}", ex); }
        if (bytes.Length < 32) throw new StartupException($"snapshot file {file} is too short");
        var image = bytes.AsSpan(0, bytes.Length - 32);
        if (!SHA256.HashData(image).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
            throw new StartupException($"snapshot file {file} fails its SHA-256 check");
        if (!ServerStateMachine.IsImage(image))
            throw new StartupException($"snapshot file {file} is not a Coordination state image");
        var meta = new SnapshotMetadata { Index = 1, Term = 1, ConfState = new ConfState { Voters = { identity.MemberId } } };
        using var stream = new MemoryStream(bytes, 0, bytes.Length - 32, writable: false);
        snapshotter.Save(meta, stream);
        logger.LogInformation("restored state from snapshot file {File}", file);
    }
}
