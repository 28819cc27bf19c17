namespace Coordination.Server.Mvcc;

/// <summary>The result of <see cref="MvccHasher.HashKv"/>.</summary>
/// <param name="Hash">CRC-32C over the hashed records.</param>
/// <param name="CompactRevision">The store's compact revision when hashing.</param>
/// <param name="HashRevision">The revision the hash covers (records with main revision ≤ it).</param>
internal readonly record struct MvccHashKv(uint Hash, long CompactRevision, long HashRevision);
