using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace SitMessenger.UnitTests.Deploy;

/// <summary>The Compose output against the model (Aspire's manifest of it) and against docker-compose itself.</summary>
[Collection(DeploymentCollection.Name)]
public sealed partial class ComposeOutputTests(PublishedDeployment published)
{
    [Fact]
    public void Publishing_every_output_exits_zero()
    {
        Assert.True(published.ExitCodes.Count == 5 && published.ExitCodes.All(code => code == 0), published.Output);
    }

    [Fact]
    public void Every_resource_of_the_model_is_a_compose_service()
    {
        var workloads = published.Workloads().Select(w => w.Name).ToList();
        Assert.NotEmpty(workloads);
        Assert.All(workloads, name => Assert.True(published.ComposeServices.Children.ContainsKey(name), $"No compose service {name}."));
    }

    [Fact]
    public void Every_environment_variable_of_the_model_is_in_its_compose_service()
    {
        foreach (var (name, resource) in published.Workloads())
        {
            var environment = Map(Service(name), "environment");
            foreach (var variable in resource["env"]?.AsObject() ?? [])
            {
                Assert.True(environment?.Children.ContainsKey(variable.Key) == true, $"{name} lacks {variable.Key} in compose.");
            }
        }
    }

    [Fact]
    public void Every_reference_of_the_model_names_a_compose_service_or_a_secret_of_the_env_file()
    {
        var secrets = EnvExampleNames(Path.Combine(published.Compose, ".env.example"));
        foreach (var (name, resource) in published.Workloads())
        {
            foreach (var reference in (resource["env"]?.AsObject() ?? []).SelectMany(v => References().Matches((string?)v.Value ?? "")).Select(m => m.Groups[1].Value))
            {
                var target = published.ManifestResources[reference];
                var type = (string?)target?["type"];
                var deployed = type is "parameter.v0" or "annotated.string"
                    ? secrets.Contains(Variable(((string?)target?["value"] ?? reference).Trim('{', '}').Split('.')[0]))
                    : type == "value.v0" || published.ComposeServices.Children.ContainsKey(reference);
                Assert.True(deployed, $"{name} refers to {reference} ({type}), which the compose output does not define.");
            }
        }
    }

    [Fact]
    public void Every_endpoint_of_a_service_in_the_model_is_a_port_its_compose_service_listens_on_and_external_ones_are_published()
    {
        foreach (var (name, resource) in published.Workloads().Where(w => ((string?)w.Resource["type"])?.StartsWith("project.", StringComparison.Ordinal) == true))
        {
            var environment = Map(Service(name), "environment");
            foreach (var binding in resource["bindings"]?.AsObject() ?? [])
            {
                var variable = (string?)binding.Value?["scheme"] == "https" ? "HTTPS_PORTS" : "HTTP_PORTS";
                var listened = environment?.Children.TryGetValue(variable, out var ports) == true ? ((YamlScalarNode)ports).Value!.Split(';') : [];
                Assert.True(listened.Length > 0, $"{name}'s endpoint {binding.Key} has no {variable} in compose.");
                var port = (int?)binding.Value?["targetPort"] ?? (int?)binding.Value?["port"];
                if (port is { } fixedPort)
                {
                    Assert.Contains(fixedPort.ToString(System.Globalization.CultureInfo.InvariantCulture), listened);
                }

                if ((bool?)binding.Value?["external"] == true)
                {
                    var exposed = Service(name).Children.TryGetValue("ports", out var mapped)
                        ? ((YamlSequenceNode)mapped).Select(node => ((YamlScalarNode)node).Value!.Split(':')[^1]).ToList()
                        : [];
                    Assert.True(listened.Any(exposed.Contains), $"{name}'s external endpoint {binding.Key} ({string.Join(";", listened)}) is not published: {string.Join(", ", exposed)}.");
                }
            }
        }
    }

    [Fact]
    public void Every_server_has_a_named_volume_and_a_health_check()
    {
        var volumes = (YamlMappingNode)Root()["volumes"];
        foreach (var (name, _) in published.Workloads().Where(w => (string?)w.Resource["type"] == "container.v0"))
        {
            var service = Service(name);
            Assert.True(service.Children.ContainsKey("healthcheck"), $"{name} has no health check.");
            var mounts = ((YamlSequenceNode)service["volumes"]).Select(node => ((YamlScalarNode)node).Value!.Split(':')[0]).ToList();
            Assert.NotEmpty(mounts);
            Assert.All(mounts, volume => Assert.True(volumes.Children.ContainsKey(volume), $"{name} mounts undeclared volume {volume}."));
        }
    }

    [Theory]
    [InlineData("api")]
    [InlineData("worker")]
    public void The_services_start_only_once_the_migrator_completed(string service)
    {
        var condition = (YamlScalarNode)((YamlMappingNode)Map(Service(service), "depends_on")!["migrations"])["condition"];
        Assert.Equal("service_completed_successfully", condition.Value);
    }

    [Fact]
    public void The_gateway_publishes_80_and_443_and_telemetry_goes_to_the_dashboard()
    {
        var ports = ((YamlSequenceNode)Service("gateway")["ports"]).Select(node => ((YamlScalarNode)node).Value).ToList();
        Assert.Contains(ports, port => port!.StartsWith("80:", StringComparison.Ordinal));
        Assert.Contains(ports, port => port!.StartsWith("443:", StringComparison.Ordinal));
        Assert.True(published.ComposeServices.Children.ContainsKey("aspire-dashboard"));
        Assert.Equal("http://aspire-dashboard:18889", ((YamlScalarNode)Map(Service("api"), "environment")!["OTEL_EXPORTER_OTLP_ENDPOINT"]).Value);
    }

    [Fact]
    public void Every_secret_parameter_is_in_the_env_example_without_a_value_and_in_the_generated_env_with_one()
    {
        var example = File.ReadAllLines(Path.Combine(published.Compose, ".env.example")).Where(l => !l.StartsWith('#')).ToList();
        var generated = File.ReadAllLines(Path.Combine(published.Compose, ".env")).Where(l => !l.StartsWith('#')).ToList();
        foreach (var parameter in published.SecretParameters())
        {
            Assert.Contains($"{Variable(parameter)}=", example);
            Assert.Contains(generated, line => line.StartsWith($"{Variable(parameter)}=", StringComparison.Ordinal) && line.Length > Variable(parameter).Length + 20);
        }
    }

    [Fact]
    public void Docker_compose_accepts_the_compose_output()
    {
        var (exitCode, output) = PublishedDeployment.Tool("docker-compose", "-f", Path.Combine(published.Compose, PublishedDeployment.ComposeFile), "config", "-q");

        Assert.True(exitCode == 0, output);
    }

    internal static string Variable(string parameter) => parameter.ToUpperInvariant().Replace('-', '_');

    internal static HashSet<string> EnvExampleNames(string path) =>
        File.ReadAllLines(path).Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#')).Select(l => l[..l.IndexOf('=', StringComparison.Ordinal)]).ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"\{([a-z0-9-]+)\.")]
    internal static partial Regex References();

    private YamlMappingNode Root()
    {
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(published.Compose, PublishedDeployment.ComposeFile))));
        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private YamlMappingNode Service(string name) => (YamlMappingNode)published.ComposeServices[name];

    private static YamlMappingNode? Map(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var child) ? child as YamlMappingNode : null;
}
