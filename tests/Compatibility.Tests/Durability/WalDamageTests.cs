using Coordination.Compatibility.Tests.Fixtures;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Coordination.Compatibility.Tests.Durability;

/// <summary>
/// Damage to the write-ahead log of a stopped (SIGKILLed) server, at process level: a torn tail is
/// cut off with a warning and everything before it is served; a damaged record followed by valid
/// records makes the server refuse to start, with a non-zero exit code and a message on stderr.
/// </summary>
public sealed class WalDamageTests
{
    private const int Puts = 30;

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static CallOptions Options(CancellationToken ct) => new(deadline: DateTime.UtcNow.AddSeconds(15), cancellationToken: ct);

    /// <summary>Writes <see cref="Puts"/> keys one by one; returns each acknowledged revision.</summary>
    private static async Task<long[]> WriteAsync(CoordinationProcess server, CancellationToken ct)
    {
        using var channel = server.OpenChannel();
        var kv = new KV.KVClient(channel);
        var revisions = new long[Puts];
        for (var i = 0; i < Puts; i++)
        {
            var response = await kv.PutAsync(new PutRequest { Key = B($"wal/k{i:D2}"), Value = B($"value-{i}-{new string('x', i * 10)}") }, Options(ct));
            revisions[i] = response.Header.Revision;
        }

        return revisions;
    }

    /// <summary>Which of the keys are present with their acknowledged value and revision; fails on a wrong one.</summary>
    private static async Task<bool[]> ReadAsync(CoordinationProcess server, long[] revisions, CancellationToken ct)
    {
        using var channel = server.OpenChannel();
        var kv = new KV.KVClient(channel);
        var response = await kv.RangeAsync(new RangeRequest { Key = B("wal/"), RangeEnd = B("wal0") }, Options(ct));
        var present = new bool[Puts];
        foreach (var item in response.Kvs)
        {
            var i = int.Parse(item.Key.ToStringUtf8()["wal/k".Length..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal($"value-{i}-{new string('x', i * 10)}", item.Value.ToStringUtf8());
            Assert.Equal(revisions[i], item.ModRevision);
            present[i] = true;
        }

        return present;
    }

    private static async Task AssertServesAsync(CoordinationProcess server, CancellationToken ct)
    {
        using var channel = server.OpenChannel();
        var kv = new KV.KVClient(channel);
        await kv.PutAsync(new PutRequest { Key = B("after"), Value = B("ok") }, Options(ct));
        var get = await kv.RangeAsync(new RangeRequest { Key = B("after") }, Options(ct));
        Assert.Equal("ok", Assert.Single(get.Kvs).Value.ToStringUtf8());
    }

    private static (string Path, IReadOnlyList<WalFile.Record> Records) LastSegment(CoordinationProcess server)
    {
        Assert.True(WalFile.CrcSelfCheck(), "CRC-32C self-check failed");
        var segments = WalFile.Segments(server.WalDir);
        Assert.NotEmpty(segments);
        var path = segments[^1];
        var records = WalFile.ReadRecords(path);
        Assert.True(records.Count > Puts, $"expected more than {Puts} valid records in {path}, found {records.Count}");
        Assert.Equal(1, records[0].Type);
        // Anything after the real end of written data is preallocated (zero) space.
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.AsSpan((int)records[^1].End).IndexOfAnyExcept((byte)0) < 0,
            $"{path}: non-zero bytes after the last valid record at {records[^1].End} (file length {bytes.Length})");
        return (path, records);
    }

    /// <summary>Cuts the last record of the last segment short by <paramref name="cut"/> bytes.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(13)] // into the record's 12-byte header when its payload is short
    public async Task Torn_last_record_is_cut_off_and_everything_before_it_is_served(int cut)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await CoordinationProcess.StartNewAsync([], ct);
        var revisions = await WriteAsync(server, ct);
        server.Kill();

        var (path, records) = LastSegment(server);
        var last = records[^1];
        var newLength = Math.Max(last.Offset + 1, last.End - cut);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{Path.GetFileName(path)}: {records.Count} records, data ends at {last.End}; last record {last.TypeName} at {last.Offset}, {last.Length} bytes payload; cut to {newLength}");
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(newLength);
        }

        await server.RestartAsync(ct);
        var present = await ReadAsync(server, revisions, ct);
        var missing = Enumerable.Range(0, Puts).Where(i => !present[i]).ToList();
        // Only the last put's entry can be in the cut record; a torn hard state loses nothing (a single
        // voter commits its own log again when it becomes leader).
        Assert.True(missing.Count == 0 || (missing.SequenceEqual([Puts - 1]) && last.Type == 2),
            $"after cutting the last record ({last.TypeName}) short, acknowledged keys are missing: {string.Join(",", missing)}");
        Assert.Contains("torn tail", server.Log.ToString(), StringComparison.Ordinal);

        // New writes continue the checksum chain after the truncation: they survive another crash.
        await AssertServesAsync(server, ct);
        server.Kill();
        await server.RestartAsync(ct);
        await ReadAsync(server, revisions, ct);
        using var channel = server.OpenChannel();
        var get = await new KV.KVClient(channel).RangeAsync(new RangeRequest { Key = B("after") }, Options(ct));
        Assert.Equal("ok", Assert.Single(get.Kvs).Value.ToStringUtf8());
    }

    /// <summary>Flips one byte of an early record (payload, checksum or length field) in a segment
    /// where valid records follow: the server must refuse to start and leave the file as it was.</summary>
    [Theory]
    [InlineData("payload")]
    [InlineData("crc")]
    [InlineData("length")]
    [InlineData("magic")]
    public async Task Damaged_early_record_followed_by_valid_records_makes_the_server_refuse_to_start(string where)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var server = await CoordinationProcess.StartNewAsync([], ct);
        var revisions = await WriteAsync(server, ct);
        server.Kill();

        var (path, records) = LastSegment(server);
        // The first entry record after the first few records, with many valid records after it.
        var index = Enumerable.Range(3, records.Count - 3).First(i => records[i].Type == 2 && records[i].Length > 4);
        var record = records[index];
        Assert.True(records.Count - index > 10, $"only {records.Count - index - 1} records follow the damaged one");
        var position = where switch
        {
            "payload" => record.Offset + WalFile.HeaderSize + record.Length / 2,
            "crc" => record.Offset + 1,
            "length" => record.Offset + 4,
            "magic" => record.Offset + 9,
            _ => throw new ArgumentOutOfRangeException(nameof(where)),
        };
        var original = File.ReadAllBytes(path);
        var damaged = (byte[])original.Clone();
        damaged[position] ^= where == "length" ? (byte)0x01 : (byte)0x5A;
        File.WriteAllBytes(path, damaged);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{Path.GetFileName(path)}: damaged the {where} of record #{index} ({record.TypeName} at {record.Offset}) at byte {position}; {records.Count - index - 1} valid records follow");

        var (exitCode, stdout, stderr) = await server.RunExpectingExitAsync(TimeSpan.FromSeconds(30));
        TestContext.Current.TestOutputHelper?.WriteLine($"exit code {exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none (still running)"}\nstderr: {stderr}");
        Assert.True(exitCode is not null, $"the server started on a WAL with a damaged record in the middle (it was still running after 30 s).\nstdout tail: {Tail(stdout)}");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("corrupt", stderr, StringComparison.OrdinalIgnoreCase);
        Assert.Contains(Path.GetFileName(path), stderr, StringComparison.Ordinal);
        Assert.Contains($"offset {record.Offset}", stderr, StringComparison.Ordinal);
        Assert.True(File.ReadAllBytes(path).AsSpan().SequenceEqual(damaged), "the server modified the damaged segment although it refused to start");

        // Undo the damage: the server starts and every acknowledged write is there.
        File.WriteAllBytes(path, original);
        await server.RestartAsync(ct);
        var present = await ReadAsync(server, revisions, ct);
        Assert.All(present, Assert.True);
        await AssertServesAsync(server, ct);
    }

    private static string Tail(string s) => s.Length <= 3000 ? s : s[^3000..];
}
