using Google.Protobuf;

namespace Coordination.Server.Mvcc;

/// <summary>
/// A change of lease attachment caused by a write: <paramref name="Attached"/> true when
/// <paramref name="Key"/> now carries <paramref name="LeaseId"/>, false when it no longer does.
/// </summary>
internal readonly record struct LeaseChange(long LeaseId, ByteString Key, bool Attached);
