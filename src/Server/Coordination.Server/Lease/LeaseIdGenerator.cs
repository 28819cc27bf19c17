namespace Coordination.Server.Lease;

/// <summary>
/// Chooses ids for leases granted with id 0: positive 63-bit values, random so that they are
/// unlikely to collide with client-chosen ids or with ids handed out before a restart.
/// </summary>
internal sealed class LeaseIdGenerator(Random random)
{
    private readonly Lock _gate = new();

    /// <summary>A positive id for which <paramref name="taken"/> is false.</summary>
    public long Next(Func<long, bool> taken)
    {
        while (true)
        {
            long id;
            lock (_gate) id = random.NextInt64(1, long.MaxValue);
            if (!taken(id)) return id;
        }
    }
}
