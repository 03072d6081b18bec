namespace SitMessenger.AppHost.Hosting;

/// <summary>A resource's console output: the recent lines in memory for the dashboard, all of it in a file.</summary>
public sealed class ResourceLog : IDisposable
{
    private const int Capacity = 2000;
    private readonly Queue<LogLine> _lines = new();
    private readonly StreamWriter _file;
    private readonly Lock _gate = new();
    private long _sequence;

    internal ResourceLog(string filePath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(filePath)!);
        _file = new StreamWriter(new FileStream(filePath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
    }

    public void Append(string text, bool isError)
    {
        lock (_gate)
        {
            var line = new LogLine(++_sequence, DateTimeOffset.UtcNow, text, isError);
            _lines.Enqueue(line);
            if (_lines.Count > Capacity)
            {
                _lines.Dequeue();
            }

            _file.WriteLine(text);
        }
    }

    public IReadOnlyList<LogLine> Tail(int count)
    {
        lock (_gate)
        {
            return [.. _lines.Skip(Math.Max(0, _lines.Count - count))];
        }
    }

    public IReadOnlyList<LogLine> Since(long sequence)
    {
        lock (_gate)
        {
            return [.. _lines.Where(line => line.Sequence > sequence)];
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _file.Dispose();
        }
    }
}

public sealed record LogLine(long Sequence, DateTimeOffset Time, string Text, bool IsError);
