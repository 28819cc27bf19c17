namespace Coordination.Simulation.Tests.Simulation;

/// <summary>A running FNV-1a hash of everything that happened in a run: equal seeds must give equal hashes.</summary>
public sealed class TraceHash
{
    private const ulong Prime = 1099511628211;

    /// <summary>The hash so far.</summary>
    public ulong Value { get; private set; } = 14695981039346656037;

    /// <summary>Mixes a value in.</summary>
    public void Add(ulong value)
    {
        for (var i = 0; i < 8; i++)
        {
            Value ^= (value >> (i * 8)) & 0xff;
            Value *= Prime;
        }
    }

    /// <summary>Mixes a string in.</summary>
    public void Add(string value)
    {
        foreach (var c in value) Add(c);
    }
}
