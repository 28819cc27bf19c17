using Coordination.Raft.Protocol;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Coordination.Server.Tests.Storage;

/// <summary>A unique temporary directory, deleted with its contents on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "coordination-storage-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}

/// <summary>Collects log lines so tests can assert on warnings.</summary>
public sealed class ListLogger : ILogger
{
    public List<(LogLevel Level, string Message)> Lines { get; } = [];

    public int Warnings => Lines.Count(l => l.Level == LogLevel.Warning);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Lines.Add((logLevel, formatter(state, exception)));
}

internal static class Entries
{
    public static Entry Make(ulong index, ulong term, int dataLength = 0)
    {
        byte[] data = new byte[dataLength == 0 ? 8 + (int)(index % 7) : dataLength];
        new Random((int)(index * 31 + term)).NextBytes(data);
        return new Entry { Index = index, Term = term, Type = EntryType.EntryNormal, Data = ByteString.CopyFrom(data) };
    }

    public static List<Entry> Range(ulong from, ulong to, ulong term, int dataLength = 0)
    {
        var list = new List<Entry>();
        for (ulong i = from; i <= to; i++)
        {
            list.Add(Make(i, term, dataLength));
        }

        return list;
    }
}
