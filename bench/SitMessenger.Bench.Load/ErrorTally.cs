namespace SitMessenger.Bench.Load;

/// <summary>Failed requests by status (or exception type), with the first answer seen for each. One per sender: no locks.</summary>
internal sealed class ErrorTally
{
    private readonly SortedDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public long Total { get; private set; }

    public IEnumerable<KeyValuePair<string, Entry>> Entries => _entries;

    public void Add(string key, string firstDetail) => Add(key, 1, firstDetail);

    public void Merge(ErrorTally other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var (key, entry) in other._entries)
        {
            Add(key, entry.Count, entry.FirstDetail);
        }
    }

    private void Add(string key, long count, string firstDetail)
    {
        Total += count;
        if (_entries.TryGetValue(key, out var entry))
        {
            entry.Count += count;
        }
        else
        {
            _entries[key] = new Entry { Count = count, FirstDetail = firstDetail };
        }
    }

    internal sealed class Entry
    {
        public long Count { get; set; }

        public required string FirstDetail { get; init; }
    }
}
