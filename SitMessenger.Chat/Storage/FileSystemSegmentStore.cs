using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;

namespace SitMessenger.Chat.Storage;

/// <summary>
/// Segments as files under <see cref="SegmentStoreOptions.Root"/>: one folder per chat, named by the chat id, and
/// one file per segment, <c>{firstSeq:D20}-{lastSeq:D20}-{random}.seg</c>, so names sort by seq and never collide.
/// </summary>
public sealed class FileSystemSegmentStore : ISegmentStore
{
    public const string SegmentExtension = ".seg";
    public const string TemporaryExtension = ".tmp";

    private readonly string _root;
    private readonly string _rootPrefix;

    public FileSystemSegmentStore(IOptions<SegmentStoreOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var root = options.Value.Root;
        if (string.IsNullOrWhiteSpace(root))
        {
            throw new ArgumentException($"{SegmentStoreOptions.SectionName}:Root is not set.", nameof(options));
        }

        _root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        _rootPrefix = Path.EndsInDirectorySeparator(_root) ? _root : _root + Path.DirectorySeparatorChar;
    }

    public async Task<string> WriteAsync(
        Guid chatId, long firstSeq, long lastSeq, ReadOnlyMemory<byte> contents, CancellationToken cancellationToken)
    {
        // Negative seqs would break the fixed-width names that keep a chat's segments sorted.
        ArgumentOutOfRangeException.ThrowIfNegative(firstSeq);
        ArgumentOutOfRangeException.ThrowIfLessThan(lastSeq, firstSeq);
        if (contents.IsEmpty)
        {
            throw new ArgumentException("A segment file cannot be empty.", nameof(contents));
        }

        var folderName = chatId.ToString("N", CultureInfo.InvariantCulture);
        var fileName = string.Create(
            CultureInfo.InvariantCulture, $"{firstSeq:D20}-{lastSeq:D20}-{Guid.NewGuid():N}{SegmentExtension}");
        var folder = Path.Combine(_root, folderName);
        var finalPath = Path.Combine(folder, fileName);
        var tempPath = finalPath + TemporaryExtension;

        EnsureFolder(folder);
        var created = false;
        try
        {
            var streamOptions = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                BufferSize = 0,
                Options = FileOptions.Asynchronous,
                PreallocationSize = contents.Length,
            };
            if (!OperatingSystem.IsWindows())
            {
                // Ciphertext still says who talks to whom and how much: only the services' own account reads it.
                streamOptions.UnixCreateMode = OwnerOnlyFile;
            }

            await using (var stream = new FileStream(tempPath, streamOptions))
            {
                created = true;
                await stream.WriteAsync(contents, cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            cancellationToken.ThrowIfCancellationRequested();

            // The final name appears only with complete, synced content; a crash before this leaves a .tmp for the
            // sweeper, never a half-written .seg. overwrite: false is belt and braces, the name is already unique.
            File.Move(tempPath, finalPath, overwrite: false);
        }
        catch when (created)
        {
            TryDelete(tempPath);
            throw;
        }

        // Not cancellable past the rename: the segment exists now, and the caller needs its location to record it.
        DirectorySync.Flush(folder);
        return folderName + "/" + fileName;
    }

    public async Task<byte[]> ReadAsync(string location, CancellationToken cancellationToken)
    {
        var path = Resolve(location);
        try
        {
            return await File.ReadAllBytesAsync(path, cancellationToken);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new SegmentNotFoundException($"Segment '{location}' does not exist.", location, ex);
        }
    }

    public Task DeleteAsync(string location, CancellationToken cancellationToken)
    {
        var path = Resolve(location);
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
            return Task.CompletedTask;
        }

        // So a deleted segment cannot reappear after a crash and be counted again by the sweeper.
        var folder = Path.GetDirectoryName(path);
        if (folder is not null && Directory.Exists(folder))
        {
            DirectorySync.Flush(folder);
        }

        return Task.CompletedTask;
    }

    public async IAsyncEnumerable<StoredSegment> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var root = new DirectoryInfo(_root);
        if (!root.Exists)
        {
            yield break;
        }

        foreach (var folder in root.EnumerateDirectories())
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Enumeration is synchronous; yielding per folder keeps a large store from holding the caller's thread.
            await Task.Yield();
            foreach (var segment in ListFolder(folder))
            {
                yield return segment;
            }
        }
    }

    private static List<StoredSegment> ListFolder(DirectoryInfo folder)
    {
        var found = new List<StoredSegment>();
        try
        {
            foreach (var file in folder.EnumerateFiles())
            {
                var isTemporary = file.Name.EndsWith(TemporaryExtension, StringComparison.Ordinal);
                if (!isTemporary && !file.Name.EndsWith(SegmentExtension, StringComparison.Ordinal))
                {
                    continue;
                }

                var modified = new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero);
                found.Add(new StoredSegment(folder.Name + "/" + file.Name, modified, isTemporary));
            }
        }
        catch (DirectoryNotFoundException)
        {
            // Removed while listing: nothing left in it to report.
        }

        return found;
    }

    /// <summary>
    /// Locations come from database rows; a damaged or forged row must not reach a file outside the root.
    /// </summary>
    private string Resolve(string location)
    {
        ArgumentException.ThrowIfNullOrEmpty(location);
        if (Path.IsPathRooted(location) || location.Contains('\\', StringComparison.Ordinal) || location.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException("A segment location must be a relative path with '/' separators.", nameof(location));
        }

        foreach (var part in location.Split('/'))
        {
            if (part is "" or "." or "..")
            {
                throw new ArgumentException("A segment location must not contain empty, '.' or '..' parts.", nameof(location));
            }
        }

        var path = Path.GetFullPath(Path.Combine(_root, location));
        if (!path.StartsWith(_rootPrefix, StringComparison.Ordinal))
        {
            throw new ArgumentException("A segment location must stay inside the store's root.", nameof(location));
        }

        return path;
    }

    /// <summary>Creates the chat's folder, and syncs its parent so the new folder survives a crash with the file.</summary>
    private void EnsureFolder(string folder)
    {
        if (Directory.Exists(folder))
        {
            return;
        }

        if (!Directory.Exists(_root))
        {
            CreateOwnerOnlyDirectory(_root);
            var parent = Path.GetDirectoryName(_root);
            if (parent is not null)
            {
                DirectorySync.Flush(parent);
            }
        }

        CreateOwnerOnlyDirectory(folder);
        DirectorySync.Flush(_root);
    }

    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private static void CreateOwnerOnlyDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The sweeper removes leftover temporary files after a grace period.
        }
    }
}
