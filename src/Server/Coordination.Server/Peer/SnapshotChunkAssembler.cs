using Coordination.Raft.Protocol;
using Google.Protobuf;

namespace Coordination.Server.Peer;

/// <summary>
/// The receiving end of one peer stream joins the snapshot image its sender split into
/// <c>snapshot_chunk</c> frames and attaches it to the MsgSnap that follows them (see peer.proto).
/// Not thread-safe: one per stream, used by the stream's reader.
/// </summary>
internal sealed class SnapshotChunkAssembler
{
    private MemoryStream? _image;

    /// <summary>Appends the next piece of the image.</summary>
    public void Append(ByteString chunk)
    {
        if (chunk.IsEmpty) return;
        (_image ??= new MemoryStream()).Write(chunk.Span);
    }

    /// <summary>
    /// <paramref name="message"/> with the joined image as its snapshot data when it is a MsgSnap that
    /// chunks preceded (the message is changed in place); any other message is returned as it is.
    /// </summary>
    public Message Complete(Message message)
    {
        if (message.Type != MessageType.MsgSnap || _image is null || message.Snapshot is null) return message;
        // The buffer is this message's alone from here on: wrapping it avoids copying the image again.
        message.Snapshot.Data = UnsafeByteOperations.UnsafeWrap(_image.GetBuffer().AsMemory(0, (int)_image.Length));
        _image = null;
        return message;
    }
}
