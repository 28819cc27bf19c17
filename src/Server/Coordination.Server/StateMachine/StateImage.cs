using Coordination.Raft.Protocol;
using Coordination.Server.Cluster;
using Coordination.Server.Mvcc;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Server.StateMachine;

/// <summary>
/// The applied state at one index, captured on the node loop in O(leases + alarms) — the store part
/// is an immutable read view — and written out later on any thread, so a snapshot never stalls
/// the write path while its image is serialized.
/// </summary>
internal sealed class StateImage
{
    /// <summary>The first bytes of every state image written now (version 3: the member table, then the auth store).</summary>
    public static ReadOnlySpan<byte> Magic => "COORDSM3"u8;

    /// <summary>The first bytes of a version 1 image (no member table, no auth store), still readable.</summary>
    public static ReadOnlySpan<byte> MagicV1 => "COORDSM1"u8;

    private readonly IReadOnlyList<(long Id, long TtlSeconds)> _leases;
    private readonly IReadOnlyList<AlarmMember> _alarms;
    private readonly Auth.AuthImage _auth;
    private readonly MvccReadView _store;
    private readonly MemberTable _members;

    public StateImage(ulong appliedIndex, ulong appliedTerm, ConfState confState,
        IReadOnlyList<(long Id, long TtlSeconds)> leases, IReadOnlyList<AlarmMember> alarms, Auth.AuthImage auth, MvccReadView store, MemberTable members)
    {
        // The table is immutable underneath: a copy taken now stays consistent with this index.
        _members = new MemberTable();
        _members.Reset(members.Members.Values, members.Removed);
        AppliedIndex = appliedIndex;
        AppliedTerm = appliedTerm;
        ConfState = confState;
        _leases = leases;
        _alarms = alarms;
        _auth = auth;
        _store = store;
    }

    /// <summary>Index of the last entry the image includes.</summary>
    public ulong AppliedIndex { get; }

    /// <summary>Term of that entry.</summary>
    public ulong AppliedTerm { get; }

    /// <summary>The membership at that entry.</summary>
    public ConfState ConfState { get; }

    /// <summary>Writes the image (read back by <see cref="ServerStateMachine.Restore"/>).</summary>
    public void WriteTo(Stream destination)
    {
        destination.Write(Magic);
        using var writer = new BinaryWriter(destination, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(AppliedIndex);
        writer.Write(AppliedTerm);
        WriteMessage(writer, ConfState);
        writer.Write(_leases.Count);
        foreach (var (id, ttl) in _leases)
        {
            writer.Write(id);
            writer.Write(ttl);
        }
        writer.Write(_alarms.Count);
        foreach (var alarm in _alarms) WriteMessage(writer, alarm);
        _members.WriteTo(writer);
        writer.Write(_auth.Enabled);
        writer.Write(_auth.Revision);
        writer.Write(_auth.Users.Count);
        foreach (var user in _auth.Users) WriteMessage(writer, user);
        writer.Write(_auth.Roles.Count);
        foreach (var role in _auth.Roles) WriteMessage(writer, role);
        writer.Flush();
        MvccImage.Write(_store, destination);
    }

    /// <summary>The image as one array (for the Snapshot RPC, which pads and hashes it).</summary>
    public byte[] ToArray()
    {
        using var buffer = new MemoryStream();
        WriteTo(buffer);
        return buffer.ToArray();
    }

    private static void WriteMessage(BinaryWriter writer, IMessage message)
    {
        var bytes = message.ToByteArray();
        writer.Write(bytes.Length);
        writer.Write(bytes);
    }
}
