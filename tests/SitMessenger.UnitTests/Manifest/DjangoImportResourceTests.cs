using System.Text.Json.Nodes;

namespace SitMessenger.UnitTests.Manifest;

/// <summary>
/// The AppHost's opt-in one-shot <c>django-import</c> (issue 13): absent by default, and with <c>--import-django-from</c>
/// a run of the MigrationService's <c>import-django</c> against the system's database and key ring, its source
/// connection string a secret parameter that no published file holds in clear. Seen in Aspire's manifest of the model.
/// </summary>
public sealed class DjangoImportResourceTests(PublishedManifest plain) : IClassFixture<PublishedManifest>, IAsyncLifetime
{
    // A password no other part of the model could hold: finding it in the manifest would mean the secret leaked.
    private const string SourcePassword = "Django-Source-Secret-7f3a";
    private const string Source = $"Host=old-db;Database=hello_django_dev;Username=hello_django;Password={SourcePassword}";

    private readonly DirectoryInfo _output = Directory.CreateTempSubdirectory("sit-django-import-manifest-");
    private string _text = "";
    private string _run = "";

    private string ManifestPath => Path.Combine(_output.FullName, "aspire-manifest.json");

    public async Task InitializeAsync()
    {
        (_, _run) = await AppHostProcess.RunAsync(
            "--publisher", "manifest", "--output-path", ManifestPath,
            "--import-django-from", Source, "--import-django-media-root", "/srv/django/mediafiles", "--import-django-redis", "old-redis:6379");
        _text = File.Exists(ManifestPath) ? await File.ReadAllTextAsync(ManifestPath) : "";
    }

    public Task DisposeAsync()
    {
        _output.Delete(recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public void Without_import_django_from_the_model_has_no_import()
    {
        Assert.DoesNotContain("django-import", plain.ResourceNames);
    }

    [Fact]
    public void With_import_django_from_the_import_is_a_run_of_import_django_against_the_systems_database_and_key_ring()
    {
        Assert.True(_text.Length > 0, $"No manifest was written.\n{_run}");
        var resources = JsonNode.Parse(_text)!["resources"]!;
        var import = resources["django-import"] ?? throw new Xunit.Sdk.XunitException($"No django-import resource.\n{_run}");
        var env = import["env"]!;

        Assert.Equal("project.v0", (string?)import["type"]);
        Assert.Equal(["import-django"], import["args"]!.AsArray().Select(arg => (string?)arg));
        Assert.Equal("{sitdb.connectionString}", (string?)env["ConnectionStrings__sitdb"]);
        Assert.Equal("{chat-master-key.value}", (string?)env["ChatKeyRing__Keys__k1"]);
        Assert.Equal("k1", (string?)env["ChatKeyRing__ActiveKeyId"]);
        Assert.Equal("/srv/django/mediafiles", (string?)env["DjangoImport__MediaRoot"]);
        Assert.Equal("old-redis:6379", (string?)env["DjangoImport__Redis"]);
        Assert.Equal("{django-import-database.value}", (string?)env["DjangoImport__Database"]);
    }

    [Fact]
    public void The_source_connection_string_is_a_secret_parameter_and_in_no_published_file()
    {
        Assert.True(_text.Length > 0, $"No manifest was written.\n{_run}");
        var parameter = JsonNode.Parse(_text)!["resources"]!["django-import-database"];

        Assert.Equal("parameter.v0", (string?)parameter?["type"]);
        Assert.True((bool?)parameter?["inputs"]?["value"]?["secret"], "The Django source is not a secret parameter.");
        Assert.DoesNotContain(SourcePassword, _text, StringComparison.Ordinal);
    }
}
