using Coordination.Raft.Protocol;
using Coordination.Server.Peer;
using Google.Protobuf;

namespace Coordination.Server.Tests.Peer;

public sealed class SnapshotChunkAssemblerTests
{
    [Fact]
    public void Chunks_are_joined_in_order_and_attached_to_the_snapshot_message_that_follows()
    {
        var assembler = new SnapshotChunkAssembler();
        var image = new byte[2_500_000];
        new Random(7).NextBytes(image);
        for (var at = 0; at < image.Length; at += PeerStream.SnapshotChunkBytes)
            assembler.Append(ByteString.CopyFrom(image.AsSpan(at, Math.Min(PeerStream.SnapshotChunkBytes, image.Length - at))));

        var snap = assembler.Complete(SnapMessage());

        Assert.Equal(image, snap.Snapshot.Data.ToByteArray());
        Assert.Equal(42UL, snap.Snapshot.Metadata.Index);
        // The image went with that message: the next one gets nothing.
        Assert.True(assembler.Complete(SnapMessage()).Snapshot.Data.IsEmpty);
    }

    [Fact]
    public void Other_messages_pass_unchanged_and_do_not_take_the_image()
    {
        var assembler = new SnapshotChunkAssembler();
        assembler.Append(ByteString.CopyFromUtf8("part"));
        var append = new Message { Type = MessageType.MsgApp, To = 2, From = 1, Index = 5 };

        Assert.Same(append, assembler.Complete(append));
        Assert.Equal("part", assembler.Complete(SnapMessage()).Snapshot.Data.ToStringUtf8());
    }

    [Fact]
    public void A_snapshot_message_with_no_chunks_before_it_keeps_its_own_data()
    {
        var assembler = new SnapshotChunkAssembler();
        var snap = SnapMessage();
        snap.Snapshot.Data = ByteString.CopyFromUtf8("inline image");

        Assert.Equal("inline image", assembler.Complete(snap).Snapshot.Data.ToStringUtf8());
    }

    private static Message SnapMessage() => new()
    {
        Type = MessageType.MsgSnap,
        To = 2,
        From = 1,
        Snapshot = new Snapshot { Metadata = new SnapshotMetadata { Index = 42, Term = 3 } },
    };
}
