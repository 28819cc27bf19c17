using Coordination.Raft.Protocol;
using Coordination.Server.Apply.Protocol;
using Coordination.Server.Hosting;
using Coordination.Server.StateMachine;
using Etcdserverpb;
using Google.Protobuf;

namespace Coordination.Server.Tests.Cluster;

/// <summary>
/// The replicated member table as the state machine applies it: membership changes from conf-change
/// entries (idempotent, so a joining member may replay them over a table it fetched), published
/// attributes, and the table's place in the state image.
/// </summary>
public sealed class MemberTableTests
{
    private static Entry ConfChangeEntry(ulong index, ConfChangeType type, ulong id, string? peerUrl = null, ulong requestId = 0)
    {
        var member = new MemberRecord { Id = id };
        if (peerUrl is not null) member.PeerUrls.Add(peerUrl);
        var change = new ConfChange { Type = type, NodeId = id, Context = new MemberChange { RequestId = requestId, Member = member }.ToByteString() };
        return new Entry { Index = index, Term = 1, Type = EntryType.EntryConfChange, Data = change.ToByteString() };
    }

    private static Entry Normal(ulong index, InternalRequest request) =>
        new() { Index = index, Term = 1, Type = EntryType.EntryNormal, Data = request.ToByteString() };

    private static ServerStateMachine Bootstrapped()
    {
        var machine = new ServerStateMachine(new ServerOptions());
        machine.Members.Reset([new MemberRecord { Id = 1, Name = "a", PeerUrls = { "http://a:2380" } }, new MemberRecord { Id = 2, Name = "b", PeerUrls = { "http://b:2380" } }], []);
        return machine;
    }

    [Fact]
    public void Adding_promoting_and_removing_members_follows_the_log_and_answers_the_proposer()
    {
        var machine = Bootstrapped();
        var (id, result) = machine.Apply(ConfChangeEntry(1, ConfChangeType.ConfChangeAddLearnerNode, 3, "http://c:2380", requestId: 77));
        Assert.Equal(77UL, id);
        var listed = Assert.IsType<MemberListResponse>(result.Response);
        Assert.True(listed.Members.Single(m => m.ID == 3).IsLearner);
        Assert.Equal(new ConfState { Voters = { 1, 2 }, Learners = { 3 } }, machine.ConfState);

        machine.Apply(ConfChangeEntry(2, ConfChangeType.ConfChangeAddNode, 3));
        Assert.Equal(new ConfState { Voters = { 1, 2, 3 } }, machine.ConfState);
        Assert.Equal(["http://c:2380"], machine.Members.Get(3)!.PeerUrls);

        machine.Apply(ConfChangeEntry(3, ConfChangeType.ConfChangeRemoveNode, 1));
        Assert.Equal(new ConfState { Voters = { 2, 3 } }, machine.ConfState);
        Assert.Contains(1UL, machine.Members.Removed);
        Assert.Equal(3UL, machine.AppliedIndex);
    }

    [Fact]
    public void Replaying_changes_over_the_table_they_produced_changes_nothing()
    {
        var machine = Bootstrapped();
        Entry[] log =
        [
            ConfChangeEntry(1, ConfChangeType.ConfChangeAddNode, 3, "http://c:2380"),
            ConfChangeEntry(2, ConfChangeType.ConfChangeRemoveNode, 1),
            Normal(3, new InternalRequest { MemberAttributes = new MemberAttributes { Id = 3, Name = "c", ClientUrls = { "http://c:2379" } } }),
        ];
        foreach (var entry in log) machine.Apply(entry);
        var after = machine.MemberList();

        // A member joining with "existing" starts from the current table and replays the log from index 1.
        var joiner = new ServerStateMachine(new ServerOptions());
        joiner.Members.Reset(machine.Members.Members.Values, []);
        foreach (var entry in log) joiner.Apply(entry);
        Assert.Equal(after, joiner.MemberList());
        Assert.Equal("c", after.Members.Single(m => m.ID == 3).Name);
        Assert.Equal(["http://c:2379"], after.Members.Single(m => m.ID == 3).ClientURLs);
    }

    [Fact]
    public void A_peer_url_update_of_an_unknown_member_fails_like_etcd()
    {
        var machine = Bootstrapped();
        var (_, result) = machine.Apply(Normal(1, new InternalRequest { Id = 5, MemberPeerUrls = new MemberPeerUrls { Id = 9, PeerUrls = { "http://x:1" } } }));
        Assert.Equal("etcdserver: member not found", result.Error?.Message);
        var (_, updated) = machine.Apply(Normal(2, new InternalRequest { Id = 6, MemberPeerUrls = new MemberPeerUrls { Id = 2, PeerUrls = { "http://b2:2380" } } }));
        Assert.Null(updated.Error);
        Assert.Equal(["http://b2:2380"], machine.Members.Get(2)!.PeerUrls);
    }

    [Fact]
    public void The_table_travels_in_the_state_image_and_restores_in_place()
    {
        var machine = Bootstrapped();
        machine.Apply(ConfChangeEntry(1, ConfChangeType.ConfChangeAddLearnerNode, 3, "http://c:2380"));
        machine.Apply(ConfChangeEntry(2, ConfChangeType.ConfChangeRemoveNode, 2));
        machine.Apply(Normal(3, new InternalRequest { Put = new PutRequest { Key = ByteString.CopyFromUtf8("k"), Value = ByteString.CopyFromUtf8("v") } }));
        using var image = new MemoryStream();
        machine.WriteImage(image);

        image.Position = 0;
        var restored = ServerStateMachine.Restore(image, new ServerOptions());
        Assert.Equal(machine.MemberList(), restored.MemberList());
        Assert.Equal(machine.Members.Removed, restored.Members.Removed);

        // A follower installing a leader's snapshot keeps its objects and takes the image's state.
        var follower = new ServerStateMachine(new ServerOptions());
        image.Position = 0;
        follower.RestoreInPlace(image);
        Assert.Equal(machine.MemberList(), follower.MemberList());
        Assert.Equal(machine.Store.Hash(), follower.Store.Hash());
        Assert.Equal(3UL, follower.AppliedIndex);
    }

    [Fact]
    public void A_version_1_image_is_read_with_members_from_its_configuration()
    {
        // Version 1: magic, applied index and term, configuration, leases, alarms, store; no member table.
        using var image = new MemoryStream();
        image.Write("COORDSM1"u8);
        using (var writer = new BinaryWriter(image, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(7UL);
            writer.Write(2UL);
            var confState = new ConfState { Voters = { 1, 2 }, Learners = { 3 } }.ToByteArray();
            writer.Write(confState.Length);
            writer.Write(confState);
            writer.Write(0); // leases
            writer.Write(0); // alarms
        }
        new Coordination.Server.Mvcc.MvccStore().WriteImage(image);
        Assert.True(ServerStateMachine.IsImage(image.ToArray()));
        Assert.False(ServerStateMachine.IsImage("COORDSM9"u8.ToArray()));

        image.Position = 0;
        var restored = ServerStateMachine.Restore(image, new ServerOptions());
        Assert.Equal(7UL, restored.AppliedIndex);
        Assert.Equal(new ConfState { Voters = { 1, 2 }, Learners = { 3 } }, restored.ConfState);
        Assert.True(restored.Members.Get(3)!.IsLearner);
    }
}
