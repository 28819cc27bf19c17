namespace Coordination.Server.Mvcc;

/// <summary>
/// A point in the store's history: <see cref="Main"/> is the store revision a write request
/// produced, <see cref="Sub"/> orders the changes made inside that one request (0, 1, 2, ...).
/// </summary>
internal readonly record struct Revision(long Main, long Sub) : IComparable<Revision>
{
    /// <inheritdoc />
    public int CompareTo(Revision other)
    {
        int byMain = Main.CompareTo(other.Main);
        return byMain != 0 ? byMain : Sub.CompareTo(other.Sub);
    }

    /// <summary>True when <paramref name="left"/> is ordered before <paramref name="right"/>.</summary>
    public static bool operator <(Revision left, Revision right) => left.CompareTo(right) < 0;

    /// <summary>True when <paramref name="left"/> is ordered after <paramref name="right"/>.</summary>
    public static bool operator >(Revision left, Revision right) => left.CompareTo(right) > 0;

    /// <summary>True when <paramref name="left"/> is not ordered after <paramref name="right"/>.</summary>
    public static bool operator <=(Revision left, Revision right) => left.CompareTo(right) <= 0;

    /// <summary>True when <paramref name="left"/> is not ordered before <paramref name="right"/>.</summary>
    public static bool operator >=(Revision left, Revision right) => left.CompareTo(right) >= 0;
}
