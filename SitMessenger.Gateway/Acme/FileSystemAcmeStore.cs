using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace SitMessenger.Gateway.Acme;

/// <summary>
/// ACME state in a folder: <c>account-key.pem</c>, <c>certificates/{name}.pfx</c> with a <c>.notafter</c> file beside
/// it, and lock files. Key material is written owner-only (0600) and replaced atomically, so a crash mid-write never
/// leaves a torn key behind.
/// </summary>
internal sealed class FileSystemAcmeStore : IAcmeStore
{
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly string _root;

    public FileSystemAcmeStore(IOptions<AcmeOptions> options)
        : this(options.Value.StorePath ?? throw new InvalidOperationException("Acme:StorePath is not set."))
    {
    }

    public FileSystemAcmeStore(string root)
    {
        _root = Path.GetFullPath(root);
    }

    public string Root => _root;

    public async Task<string?> LoadAccountKeyAsync(CancellationToken cancellationToken)
    {
        var path = Path.Combine(_root, "account-key.pem");
        return File.Exists(path) ? await File.ReadAllTextAsync(path, cancellationToken) : null;
    }

    public Task SaveAccountKeyAsync(string pem, CancellationToken cancellationToken) =>
        WriteOwnerOnlyAsync(Path.Combine(_root, "account-key.pem"), Encoding.ASCII.GetBytes(pem), cancellationToken);

    public async Task<StoredCertificate?> LoadCertificateAsync(string certificateKey, CancellationToken cancellationToken)
    {
        var pfxPath = CertificatePath(certificateKey);
        var notAfterPath = pfxPath + ".notafter";
        if (!File.Exists(pfxPath) || !File.Exists(notAfterPath))
        {
            return null;
        }

        var notAfter = DateTimeOffset.Parse(
            await File.ReadAllTextAsync(notAfterPath, cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
        return new StoredCertificate(await File.ReadAllBytesAsync(pfxPath, cancellationToken), notAfter);
    }

    public async Task SaveCertificateAsync(string certificateKey, StoredCertificate certificate, CancellationToken cancellationToken)
    {
        var pfxPath = CertificatePath(certificateKey);
        // The PFX first: a reader that finds the new expiry also finds the new certificate.
        await WriteOwnerOnlyAsync(pfxPath, certificate.Pfx, cancellationToken);
        await WriteOwnerOnlyAsync(
            pfxPath + ".notafter", Encoding.ASCII.GetBytes(certificate.NotAfter.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture)), cancellationToken);
    }

    /// <summary>
    /// An exclusive open of a lock file: released when the stream closes, including by the OS if the process dies,
    /// so it never needs the expiry. Two Gateways sharing the folder therefore order once.
    /// </summary>
    public Task<IAsyncDisposable?> TryAcquireOrderLockAsync(string certificateKey, TimeSpan expiry, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(_root, "locks");
        EnsureFolder(folder);
        try
        {
            var stream = new FileStream(
                Path.Combine(folder, FileName(certificateKey) + ".lock"),
                OwnerOnly(FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            return Task.FromResult<IAsyncDisposable?>(stream);
        }
        catch (IOException)
        {
            return Task.FromResult<IAsyncDisposable?>(null);
        }
    }

    /// <summary>A file name from the key: readable when it can be, a hash when it is long.</summary>
    internal static string FileName(string certificateKey)
    {
        var name = new StringBuilder(certificateKey.Length);
        foreach (var c in certificateKey)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or ',' ? c : '_');
        }

        if (name.Length <= 120)
        {
            return name.ToString();
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(certificateKey)))[..16];
        return name.ToString(0, 100) + "-" + hash;
    }

    private string CertificatePath(string certificateKey) =>
        Path.Combine(_root, "certificates", FileName(certificateKey) + ".pfx");

    private static async Task WriteOwnerOnlyAsync(string path, byte[] content, CancellationToken cancellationToken)
    {
        EnsureFolder(Path.GetDirectoryName(path)!);
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            await using (var stream = new FileStream(temporary, OwnerOnly(FileMode.CreateNew, FileAccess.Write, FileShare.None)))
            {
                await stream.WriteAsync(content, cancellationToken);
                await stream.FlushAsync(cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }

    private static FileStreamOptions OwnerOnly(FileMode mode, FileAccess access, FileShare share)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }

        return options;
    }

    private static void EnsureFolder(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, OwnerOnlyFolder);
        }
    }
}
