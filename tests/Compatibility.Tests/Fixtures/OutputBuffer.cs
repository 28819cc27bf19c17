using System.Text;

namespace Coordination.Compatibility.Tests.Fixtures;

/// <summary>A thread-safe, bounded text buffer for a child process's stdout and stderr. When full it
/// drops the oldest half, keeping the most recent output (the part that explains a failure).</summary>
internal sealed class OutputBuffer(int capacity = 256 * 1024)
{
    private readonly StringBuilder _text = new();
    private readonly Lock _gate = new();

    public void AppendLine(string prefix, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _text.Append(prefix).Append(line).Append('\n');
            if (_text.Length > capacity)
            {
                _text.Remove(0, _text.Length - capacity / 2);
                _text.Insert(0, "[... earlier output dropped ...]\n");
            }
        }
    }

    public override string ToString()
    {
        lock (_gate)
        {
            return _text.ToString();
        }
    }

    /// <summary>The last <paramref name="maxChars"/> characters, for failure messages.</summary>
    public string Tail(int maxChars = 8000)
    {
        var all = ToString();
        return all.Length <= maxChars ? all : "[...]\n" + all[^maxChars..];
    }
}
