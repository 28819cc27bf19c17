using Google.Protobuf;

namespace Coordination.Raft;

/// <summary>
/// The answer to a linearizable read request: once the host has applied entries up to
/// <see cref="Index"/>, reading local state is linearizable for the request identified by
/// <see cref="Context"/>.
/// </summary>
/// <param name="Index">The commit index the leader confirmed while it still held leadership.</param>
/// <param name="Context">The request's context, as given to <see cref="RaftNode.ReadIndex"/>.</param>
public sealed record ReadState(ulong Index, ByteString Context);
