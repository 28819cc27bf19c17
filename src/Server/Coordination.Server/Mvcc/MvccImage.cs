using System.Text;
using Google.Protobuf;

namespace Coordination.Server.Mvcc;

/// <summary>
/// The binary image of the whole store carried by raft snapshots and <c>etcdctl snapshot save</c>.
/// </summary>
/// <remarks>
/// Layout (integers are 7-bit variable-length, as <see cref="BinaryWriter.Write7BitEncodedInt64"/>):
/// <code>
/// "CMVC" version:byte(1)
/// currentRevision compactRevision keyCount
/// keyCount × { keyLength key recordCount recordCount × record }
/// record = main sub flags:byte(bit 0 = tombstone) [createRevision version lease valueLength value]
/// hash:uint32 little-endian   (MvccHasher.Hash of the state, checked on read)
/// </code>
/// </remarks>
internal static class MvccImage
{
    /// <summary>The current image format version.</summary>
    public const byte FormatVersion = 1;

    private static ReadOnlySpan<byte> Magic => "CMVC"u8;

    /// <summary>Writes <paramref name="view"/> to <paramref name="output"/> (left open).</summary>
    public static void Write(MvccReadView view, Stream output)
    {
        using var writer = new BinaryWriter(output, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write7BitEncodedInt64(view.Revision);
        writer.Write7BitEncodedInt64(view.CompactRevision);

        var histories = new List<KeyHistory>();
        view.ForEachHistory(history =>
        {
            histories.Add(history);
            return true;
        });
        writer.Write7BitEncodedInt64(histories.Count);
        foreach (KeyHistory history in histories)
        {
            WriteBytes(writer, history.Key);
            writer.Write7BitEncodedInt64(history.Records.Length);
            foreach (ref readonly KeyRecord record in history.Records)
            {
                writer.Write7BitEncodedInt64(record.Main);
                writer.Write7BitEncodedInt64(record.Sub);
                writer.Write(record.IsTombstone ? (byte)1 : (byte)0);
                if (!record.IsTombstone)
                {
                    writer.Write7BitEncodedInt64(record.CreateRevision);
                    writer.Write7BitEncodedInt64(record.Version);
                    writer.Write7BitEncodedInt64(record.Lease);
                    WriteBytes(writer, record.Value!);
                }
            }
        }

        writer.Write(MvccHasher.Hash(view));
        writer.Flush();
    }

    /// <summary>Reads an image written by <see cref="Write"/>; the result's nodes belong to <paramref name="epoch"/>.</summary>
    /// <exception cref="InvalidDataException">The image is malformed, of an unknown version, or fails its hash check.</exception>
    public static MvccReadView Read(Stream input, long epoch)
    {
        using var reader = new BinaryReader(input, Encoding.UTF8, leaveOpen: true);
        try
        {
            Span<byte> magic = stackalloc byte[4];
            reader.BaseStream.ReadExactly(magic);
            if (!magic.SequenceEqual(Magic))
            {
                throw new InvalidDataException("Not an MVCC image.");
            }

            byte version = reader.ReadByte();
            if (version != FormatVersion)
            {
                throw new InvalidDataException($"Unsupported MVCC image version {version}.");
            }

            long revision = reader.Read7BitEncodedInt64();
            long compactRevision = reader.Read7BitEncodedInt64();
            long keyCount = reader.Read7BitEncodedInt64();
            var histories = new List<KeyHistory>((int)Math.Min(keyCount, 1 << 20));
            long size = 0;
            for (long k = 0; k < keyCount; k++)
            {
                ByteString key = ReadBytes(reader);
                var records = new KeyRecord[checked((int)reader.Read7BitEncodedInt64())];
                for (int i = 0; i < records.Length; i++)
                {
                    var rev = new Revision(reader.Read7BitEncodedInt64(), reader.Read7BitEncodedInt64());
                    byte flags = reader.ReadByte();
                    records[i] = (flags & 1) != 0
                        ? KeyRecord.Tombstone(rev)
                        : new KeyRecord(rev, reader.Read7BitEncodedInt64(), reader.Read7BitEncodedInt64(), lease: ReadLease(reader), value: ReadBytes(reader));
                    size += MvccSize.Of(key, records[i]);
                }

                if (histories.Count > 0 && KeyComparer.Compare(histories[^1].Key, key) >= 0)
                {
                    throw new InvalidDataException("MVCC image keys are not in ascending order.");
                }

                histories.Add(KeyHistory.FromRecords(key, records));
            }

            uint expectedHash = reader.ReadUInt32();
            var view = new MvccReadView(PersistentBTree.Build(histories, epoch), revision, compactRevision, size);
            if (MvccHasher.Hash(view) != expectedHash)
            {
                throw new InvalidDataException("MVCC image hash mismatch.");
            }

            return view;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("Truncated MVCC image.", e);
        }
    }

    private static long ReadLease(BinaryReader reader) => reader.Read7BitEncodedInt64();

    private static void WriteBytes(BinaryWriter writer, ByteString bytes)
    {
        writer.Write7BitEncodedInt64(bytes.Length);
        writer.Write(bytes.Span);
    }

    private static ByteString ReadBytes(BinaryReader reader)
    {
        int length = checked((int)reader.Read7BitEncodedInt64());
        if (length == 0)
        {
            return ByteString.Empty;
        }

        byte[] buffer = reader.ReadBytes(length);
        if (buffer.Length != length)
        {
            throw new EndOfStreamException();
        }

        // The buffer is ours alone; wrapping it avoids a second copy per value.
        return UnsafeByteOperations.UnsafeWrap(buffer);
    }
}
