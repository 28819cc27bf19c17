using System.Globalization;

namespace Coordination.Concurrency.Locking;

/// <summary>etcd's key layout for locks and elections: <c>&lt;prefix&gt;/&lt;lease id in lowercase hex&gt;</c>.</summary>
internal static class RecipeKeys
{
    /// <summary>The prefix every contender's key lives under: the name followed by a slash.</summary>
    public static string Prefix(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return name + "/";
    }

    public static string For(string prefix, long leaseId) => prefix + leaseId.ToString("x", CultureInfo.InvariantCulture);
}
