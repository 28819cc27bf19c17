using System.Collections.Immutable;
using Coordination.Raft.Protocol;
using Coordination.Server.Apply.Protocol;

namespace Coordination.Server.Cluster;

/// <summary>
/// The replicated member table: who is in the cluster (voters and learners, as the applied log
/// says), their peer URLs, and the name and client URLs each running member published. Changed only
/// on the node loop by applied entries; read from any thread through an immutable published copy.
/// </summary>
internal sealed class MemberTable
{
    private ImmutableSortedDictionary<ulong, MemberRecord> _members = ImmutableSortedDictionary<ulong, MemberRecord>.Empty;
    private ImmutableHashSet<ulong> _removed = ImmutableHashSet<ulong>.Empty;

    /// <summary>Every member, by id (a consistent copy).</summary>
    public ImmutableSortedDictionary<ulong, MemberRecord> Members => Volatile.Read(ref _members);

    /// <summary>Ids of members removed from the cluster (they may not come back).</summary>
    public ImmutableHashSet<ulong> Removed => Volatile.Read(ref _removed);

    /// <summary>The member, or null.</summary>
    public MemberRecord? Get(ulong id) => Members.GetValueOrDefault(id);

    /// <summary>The raft configuration the table describes.</summary>
    public ConfState ConfState()
    {
        var cs = new ConfState();
        foreach (var (id, m) in Members)
        {
            if (m.IsLearner) cs.Learners.Add(id);
            else cs.Voters.Add(id);
        }
        return cs;
    }

    /// <summary>Replaces the whole table (bootstrap, snapshot restore).</summary>
    public void Reset(IEnumerable<MemberRecord> members, IEnumerable<ulong> removed)
    {
        Volatile.Write(ref _members, members.ToImmutableSortedDictionary(m => m.Id, m => m.Clone()));
        Volatile.Write(ref _removed, removed.ToImmutableHashSet());
    }

    /// <summary>Applies a committed membership change (idempotent: replaying it changes nothing).</summary>
    public void Apply(ConfChange change, MemberRecord? member)
    {
        var members = Members;
        switch (change.Type)
        {
            case ConfChangeType.ConfChangeAddNode:
            case ConfChangeType.ConfChangeAddLearnerNode:
                var learner = change.Type == ConfChangeType.ConfChangeAddLearnerNode;
                if (members.TryGetValue(change.NodeId, out var existing))
                {
                    // A learner promoted to voter (a voter is never demoted).
                    if (!learner && existing.IsLearner) members = members.SetItem(change.NodeId, new MemberRecord(existing) { IsLearner = false });
                }
                else
                {
                    var added = member?.Clone() ?? new MemberRecord();
                    added.Id = change.NodeId;
                    added.IsLearner = learner;
                    members = members.SetItem(change.NodeId, added);
                }
                break;
            case ConfChangeType.ConfChangeRemoveNode:
                members = members.Remove(change.NodeId);
                Volatile.Write(ref _removed, Removed.Add(change.NodeId));
                break;
        }
        Volatile.Write(ref _members, members);
    }

    /// <summary>Records the name and client URLs a member published.</summary>
    public void Apply(MemberAttributes attributes)
    {
        if (!Members.TryGetValue(attributes.Id, out var m)) return;
        var updated = new MemberRecord(m) { Name = attributes.Name };
        updated.ClientUrls.Clear();
        updated.ClientUrls.AddRange(attributes.ClientUrls);
        Volatile.Write(ref _members, Members.SetItem(attributes.Id, updated));
    }

    /// <summary>Replaces a member's peer URLs.</summary>
    public void Apply(MemberPeerUrls update)
    {
        if (!Members.TryGetValue(update.Id, out var m)) return;
        var updated = new MemberRecord(m);
        updated.PeerUrls.Clear();
        updated.PeerUrls.AddRange(update.PeerUrls);
        Volatile.Write(ref _members, Members.SetItem(update.Id, updated));
    }

    /// <summary>Writes the table (part of the state image).</summary>
    public void WriteTo(BinaryWriter writer)
    {
        var members = Members;
        writer.Write(members.Count);
        foreach (var m in members.Values)
        {
            var bytes = Google.Protobuf.MessageExtensions.ToByteArray(m);
            writer.Write(bytes.Length);
            writer.Write(bytes);
        }
        var removed = Removed;
        writer.Write(removed.Count);
        foreach (var id in removed.Order()) writer.Write(id);
    }

    /// <summary>Reads a table written by <see cref="WriteTo"/>.</summary>
    public static (List<MemberRecord> Members, List<ulong> Removed) Read(BinaryReader reader)
    {
        var members = new List<MemberRecord>();
        var count = reader.ReadInt32();
        for (var i = 0; i < count; i++) members.Add(MemberRecord.Parser.ParseFrom(reader.ReadBytes(reader.ReadInt32())));
        var removed = new List<ulong>();
        var removedCount = reader.ReadInt32();
        for (var i = 0; i < removedCount; i++) removed.Add(reader.ReadUInt64());
        return (members, removed);
    }
}
