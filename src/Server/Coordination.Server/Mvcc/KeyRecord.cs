using Google.Protobuf;

namespace Coordination.Server.Mvcc;

/// <summary>
/// One change of one key: a put (with the value and metadata the key had after it) or a
/// tombstone. Kept as a struct inside <see cref="KeyHistory"/>'s array so that a key with a single
/// live version costs one small array, not an object per field.
/// </summary>
internal readonly struct KeyRecord
{
    /// <summary>Creates a put record.</summary>
    public KeyRecord(Revision revision, long createRevision, long version, ByteString value, long lease)
    {
        Main = revision.Main;
        Sub = checked((int)revision.Sub);
        CreateRevision = createRevision;
        Version = version;
        Value = value;
        Lease = lease;
    }

    private KeyRecord(Revision revision)
    {
        Main = revision.Main;
        Sub = checked((int)revision.Sub);
        Value = null;
    }

    /// <summary>A tombstone record at <paramref name="revision"/>.</summary>
    public static KeyRecord Tombstone(Revision revision) => new(revision);

    /// <summary>The main revision of the change (the key's mod_revision when a put).</summary>
    public long Main { get; }

    /// <summary>The sub revision of the change inside its write request.</summary>
    public int Sub { get; }

    /// <summary>The create_revision of the key after a put; 0 for a tombstone.</summary>
    public long CreateRevision { get; }

    /// <summary>The key's version after a put; 0 for a tombstone.</summary>
    public long Version { get; }

    /// <summary>The value after a put; null for a tombstone.</summary>
    public ByteString? Value { get; }

    /// <summary>The lease attached by the put; 0 for none or a tombstone.</summary>
    public long Lease { get; }

    /// <summary>True when this record deletes the key.</summary>
    public bool IsTombstone => Value is null;

    /// <summary>The record's full revision.</summary>
    public Revision Revision => new(Main, Sub);
}
