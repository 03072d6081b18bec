using Microsoft.Extensions.Options;
using SitMessenger.Chat.Storage;

namespace SitMessenger.UnitTests.Storage;

public sealed class FileSystemSegmentStoreTests : IDisposable
{
    private static readonly Guid ChatId = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");

    private readonly DirectoryInfo _parent = Directory.CreateTempSubdirectory("sit-segments-");

    // A root that does not exist yet, so every test also covers the store creating its folders.
    private string Root => Path.Combine(_parent.FullName, "root");

    public void Dispose() => _parent.Delete(recursive: true);

    [Fact]
    public async Task Written_segment_reads_back_byte_for_byte_and_verifies()
    {
        var store = Store();
        var file = SegmentFormat.Write(ChatId, "k1", SegmentFormatTests.Messages(first: 1, count: 3));

        var location = await store.WriteAsync(ChatId, 1, 3, file, CancellationToken.None);
        var read = await store.ReadAsync(location, CancellationToken.None);

        Assert.Equal(file, read);
        Assert.Equal(3, SegmentFormat.Read(read, ChatId, SegmentFormat.Hash(file)).Messages.Count);
    }

    [Fact]
    public async Task Segment_files_and_their_folders_are_readable_only_by_their_owner()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var store = Store();
        var location = await store.WriteAsync(ChatId, 1, 3, SegmentFormat.Write(ChatId, "k1", SegmentFormatTests.Messages(first: 1, count: 3)), CancellationToken.None);

        var file = Path.Combine(Root, location);
        const UnixFileMode ownerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(ownerOnlyFolder, File.GetUnixFileMode(Path.GetDirectoryName(file)!));
        Assert.Equal(ownerOnlyFolder, File.GetUnixFileMode(Root));
    }

    [Fact]
    public async Task Location_is_relative_and_named_by_chat_and_seq_range()
    {
        var location = await Store().WriteAsync(ChatId, 5, 12, new byte[] { 1 }, CancellationToken.None);

        Assert.Matches(
            "^0f8fad5bd9cb469fa16570867728950e/00000000000000000005-00000000000000000012-[0-9a-f]{32}\\.seg$", location);
        Assert.True(File.Exists(Path.Combine(Root, location)));
        Assert.Empty(Directory.EnumerateFiles(Root, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Two_writes_of_the_same_range_never_overwrite_each_other()
    {
        var store = Store();

        var first = await store.WriteAsync(ChatId, 1, 2, new byte[] { 1 }, CancellationToken.None);
        var second = await store.WriteAsync(ChatId, 1, 2, new byte[] { 2 }, CancellationToken.None);

        Assert.NotEqual(first, second);
        Assert.Equal(new byte[] { 1 }, await store.ReadAsync(first, CancellationToken.None));
        Assert.Equal(new byte[] { 2 }, await store.ReadAsync(second, CancellationToken.None));
    }

    [Fact]
    public async Task List_returns_segments_with_utc_times_and_marks_temporary_files()
    {
        var store = Store();
        var otherChat = Guid.NewGuid();
        var a = await store.WriteAsync(ChatId, 1, 2, new byte[] { 1 }, CancellationToken.None);
        var b = await store.WriteAsync(otherChat, 1, 1, new byte[] { 2 }, CancellationToken.None);
        var temp = $"{otherChat:N}/00000000000000000002-00000000000000000003-{Guid.NewGuid():N}.seg.tmp";
        await File.WriteAllBytesAsync(Path.Combine(Root, temp), [3]);
        await File.WriteAllBytesAsync(Path.Combine(Root, otherChat.ToString("N"), "notes.txt"), [4]);

        var listed = await ToListAsync(store.ListAsync(CancellationToken.None));

        Assert.Equal(
            new[] { (a, false), (b, false), (temp, true) }.OrderBy(x => x.Item1, StringComparer.Ordinal),
            listed.Select(s => (s.Location, s.IsTemporary)).OrderBy(x => x.Item1, StringComparer.Ordinal));
        Assert.All(listed, s => Assert.Equal(TimeSpan.Zero, s.LastModified.Offset));
        Assert.All(listed, s => Assert.InRange(s.LastModified, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1)));
    }

    [Fact]
    public async Task Listed_temporary_file_can_be_deleted_by_its_location()
    {
        var store = Store();
        await store.WriteAsync(ChatId, 1, 1, new byte[] { 1 }, CancellationToken.None);
        var temp = $"{ChatId:N}/leftover.seg.tmp";
        await File.WriteAllBytesAsync(Path.Combine(Root, temp), [3]);

        var stale = Assert.Single(await ToListAsync(store.ListAsync(CancellationToken.None)), s => s.IsTemporary);
        await store.DeleteAsync(stale.Location, CancellationToken.None);

        Assert.False(File.Exists(Path.Combine(Root, temp)));
        Assert.Single(await ToListAsync(store.ListAsync(CancellationToken.None)));
    }

    [Fact]
    public async Task List_of_a_store_never_written_to_is_empty()
    {
        Assert.Empty(await ToListAsync(Store().ListAsync(CancellationToken.None)));
    }

    [Fact]
    public async Task Delete_removes_the_segment_and_is_idempotent()
    {
        var store = Store();
        var location = await store.WriteAsync(ChatId, 1, 1, new byte[] { 1 }, CancellationToken.None);

        await store.DeleteAsync(location, CancellationToken.None);
        await store.DeleteAsync(location, CancellationToken.None);
        await store.DeleteAsync($"{Guid.NewGuid():N}/missing.seg", CancellationToken.None);

        Assert.Empty(await ToListAsync(store.ListAsync(CancellationToken.None)));
        await Assert.ThrowsAsync<SegmentNotFoundException>(() => store.ReadAsync(location, CancellationToken.None));
    }

    [Fact]
    public async Task Reading_a_missing_segment_throws_segment_not_found()
    {
        var store = Store();
        await store.WriteAsync(ChatId, 1, 1, new byte[] { 1 }, CancellationToken.None);

        var missingFile = await Assert.ThrowsAsync<SegmentNotFoundException>(
            () => store.ReadAsync($"{ChatId:N}/missing.seg", CancellationToken.None));
        var missingFolder = await Assert.ThrowsAsync<SegmentNotFoundException>(
            () => store.ReadAsync($"{Guid.NewGuid():N}/missing.seg", CancellationToken.None));

        Assert.Equal($"{ChatId:N}/missing.seg", missingFile.Location);
        Assert.NotNull(missingFolder.Location);
    }

    [Theory]
    [InlineData("")]
    [InlineData("../outside.seg")]
    [InlineData("chat/../../outside.seg")]
    [InlineData("chat/./x.seg")]
    [InlineData("chat//x.seg")]
    [InlineData("/etc/passwd")]
    [InlineData("chat\\..\\..\\outside.seg")]
    [InlineData("..")]
    public async Task Locations_that_could_escape_the_root_are_rejected(string location)
    {
        var store = Store();
        var outside = Path.Combine(_parent.FullName, "outside.seg");
        await File.WriteAllBytesAsync(outside, [1]);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.ReadAsync(location, CancellationToken.None));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.DeleteAsync(location, CancellationToken.None));
        Assert.True(File.Exists(outside));
    }

    [Fact]
    public async Task Write_rejects_an_invalid_range_and_empty_contents()
    {
        var store = Store();

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.WriteAsync(ChatId, -1, 1, new byte[] { 1 }, CancellationToken.None));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.WriteAsync(ChatId, 5, 4, new byte[] { 1 }, CancellationToken.None));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.WriteAsync(ChatId, 1, 1, ReadOnlyMemory<byte>.Empty, CancellationToken.None));
    }

    [Fact]
    public async Task Cancelled_write_leaves_no_files_behind()
    {
        var store = Store();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => store.WriteAsync(ChatId, 1, 1, new byte[] { 1 }, cancelled.Token));

        Assert.Empty(await ToListAsync(store.ListAsync(CancellationToken.None)));
    }

    [Fact]
    public void Missing_root_option_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => new FileSystemSegmentStore(Options.Create(new SegmentStoreOptions())));
    }

    [Fact]
    public void Directory_sync_succeeds_on_a_folder_and_fails_loudly_otherwise()
    {
        DirectorySync.Flush(_parent.FullName);

        if (OperatingSystem.IsLinux())
        {
            var file = Path.Combine(_parent.FullName, "plain-file");
            File.WriteAllBytes(file, [1]);

            Assert.Throws<IOException>(() => DirectorySync.Flush(Path.Combine(_parent.FullName, "missing")));

            // ENOTDIR proves the O_DIRECTORY bit is right for this architecture.
            var ex = Assert.Throws<IOException>(() => DirectorySync.Flush(file));
            Assert.Contains("errno 20", ex.Message, StringComparison.Ordinal);
        }
    }

    private FileSystemSegmentStore Store() => new(Options.Create(new SegmentStoreOptions { Root = Root }));

    private static async Task<List<StoredSegment>> ToListAsync(IAsyncEnumerable<StoredSegment> segments)
    {
        var list = new List<StoredSegment>();
        await foreach (var segment in segments)
        {
            list.Add(segment);
        }

        return list;
    }
}
