using k8s;
using k8s.Models;

namespace SitMessenger.UnitTests.Deploy;

/// <summary>The Kubernetes output parsed into KubernetesClient's typed objects, against the model (Aspire's manifest of it) and kubectl.</summary>
[Collection(DeploymentCollection.Name)]
public sealed class KubernetesOutputTests(PublishedDeployment published)
{
    private List<object> Objects => _objects ??= Directory.EnumerateFiles(published.Kubernetes, "*.yaml")
        .Where(path => Path.GetFileName(path) != "kustomization.yaml")
        .Order(StringComparer.Ordinal)
        .SelectMany(path => KubernetesYaml.LoadAllFromString(File.ReadAllText(path)))
        .ToList();

    private List<object>? _objects;

    [Fact]
    public void Every_file_parses_document_by_document_into_typed_kubernetes_objects()
    {
        Assert.NotEmpty(Objects);
        Assert.All(Objects, item => Assert.IsAssignableFrom<IKubernetesObject>(item));
        Assert.Single(Objects.OfType<V1Namespace>());
    }

    [Fact]
    public void Every_resource_of_the_model_is_a_kubernetes_workload()
    {
        foreach (var (name, resource) in published.Workloads())
        {
            var kinds = Workloads().Where(w => w.Name == name).Select(w => w.Kind).ToList();
            Assert.True(kinds.Count == 1, $"{name} is {kinds.Count} workloads ({string.Join(", ", kinds)}).");
            var expected = (string?)resource["type"] == "container.v0" ? "StatefulSet" : resource["bindings"] is null ? "Job" : "Deployment";
            Assert.Equal(expected, kinds[0]);
        }
    }

    [Fact]
    public void Every_endpoint_of_the_model_is_a_container_port_behind_a_service()
    {
        var services = Objects.OfType<V1Service>().ToList();
        foreach (var (name, resource) in published.Workloads())
        {
            foreach (var binding in resource["bindings"]?.AsObject() ?? [])
            {
                var container = Workloads().Single(w => w.Name == name).Pod.Containers[0];
                Assert.Contains(container.Ports ?? [], port => port.Name == binding.Key);
                Assert.Contains(services, service => service.Metadata.Name == name && service.Spec.Ports.Any(p => p.Name == binding.Key));
            }
        }
    }

    [Fact]
    public void Every_environment_variable_of_the_model_is_in_its_container_or_config_map()
    {
        var configMaps = Objects.OfType<V1ConfigMap>().ToDictionary(map => map.Metadata.Name);
        foreach (var (name, resource) in published.Workloads())
        {
            var container = Workloads().Single(w => w.Name == name).Pod.Containers[0];
            var given = (container.Env ?? []).Select(e => e.Name)
                .Concat((container.EnvFrom ?? []).SelectMany(from => configMaps[from.ConfigMapRef.Name].Data.Keys))
                .ToHashSet(StringComparer.Ordinal);
            foreach (var variable in resource["env"]?.AsObject() ?? [])
            {
                Assert.True(given.Contains(variable.Key), $"{name} lacks {variable.Key} in Kubernetes.");
            }
        }
    }

    [Fact]
    public void Every_service_with_an_endpoint_is_probed_for_readiness_at_health_and_liveness_at_alive()
    {
        foreach (var (name, _) in published.Workloads().Where(w => (string?)w.Resource["type"] == "project.v0" && w.Resource["bindings"] is not null))
        {
            var container = Workloads().Single(w => w.Name == name).Pod.Containers[0];
            Assert.Equal("/health", container.ReadinessProbe?.HttpGet?.Path);
            Assert.Equal("/alive", container.LivenessProbe?.HttpGet?.Path);
            Assert.NotNull(container.Resources?.Requests);
            Assert.NotNull(container.Resources?.Limits);
            Assert.True(container.SecurityContext?.ReadOnlyRootFilesystem, $"{name}'s root file system is writable.");
        }
    }

    [Fact]
    public void Every_secret_config_map_claim_and_account_a_workload_refers_to_is_defined()
    {
        var secretKeys = ComposeOutputTests.EnvExampleNames(Path.Combine(published.Kubernetes, "secrets.env.example"));
        var kustomization = File.ReadAllText(Path.Combine(published.Kubernetes, "kustomization.yaml"));
        var configMaps = Objects.OfType<V1ConfigMap>().Select(map => map.Metadata.Name).ToHashSet();
        var claims = Objects.OfType<V1PersistentVolumeClaim>().Select(claim => claim.Metadata.Name).ToHashSet();
        var accounts = Objects.OfType<V1ServiceAccount>().Select(account => account.Metadata.Name).ToHashSet();
        foreach (var (name, _, pod) in Workloads())
        {
            foreach (var container in pod.Containers.Concat(pod.InitContainers ?? []))
            {
                foreach (var secret in (container.Env ?? []).Select(e => e.ValueFrom?.SecretKeyRef).OfType<V1SecretKeySelector>())
                {
                    Assert.Contains($"name: {secret.Name}", kustomization, StringComparison.Ordinal);
                    Assert.Contains(secret.Key, secretKeys);
                }

                Assert.All(container.EnvFrom ?? [], from => Assert.Contains(from.ConfigMapRef.Name, configMaps));
                Assert.True(kustomization.Contains($"name: {container.Image.Split(':')[0]}", StringComparison.Ordinal)
                    || container.Image.Contains('/', StringComparison.Ordinal), $"{name}'s image {container.Image} is neither overlaid nor from a registry.");
            }

            Assert.All((pod.Volumes ?? []).Select(v => v.PersistentVolumeClaim?.ClaimName).OfType<string>(), claim => Assert.Contains(claim, claims));
            Assert.True(pod.ServiceAccountName is null || accounts.Contains(pod.ServiceAccountName), $"{name}'s account {pod.ServiceAccountName} is not defined.");
        }
    }

    [Fact]
    public void The_shared_folders_are_read_write_many_claims_and_the_gateway_a_load_balancer()
    {
        var claims = Objects.OfType<V1PersistentVolumeClaim>().ToList();
        Assert.Contains(claims, claim => claim.Metadata.Name == "segments" && claim.Spec.AccessModes.Contains("ReadWriteMany"));
        Assert.Contains(claims, claim => claim.Metadata.Name == "acme" && claim.Spec.AccessModes.Contains("ReadWriteMany"));
        var gateway = Objects.OfType<V1Service>().Single(service => service.Metadata.Name == "gateway-public");
        Assert.Equal("LoadBalancer", gateway.Spec.Type);
        Assert.Equal([80, 443], gateway.Spec.Ports.Select(port => port.Port).Order());
    }

    [Fact]
    public void The_services_wait_for_the_migrator_job()
    {
        foreach (var name in new[] { "api", "worker" })
        {
            var pod = Workloads().Single(w => w.Name == name).Pod;
            Assert.Contains(pod.InitContainers ?? [], init => init.Args.Contains("job/migrations"));
        }
    }

    [Fact]
    public void Every_service_image_is_the_container_repository_of_a_project_run_as_a_non_root_user()
    {
        var root = SitMessenger.UnitTests.Manifest.AppHostProcess.RepositoryRoot();
        var repositories = Directory.EnumerateFiles(root, "*.csproj", SearchOption.AllDirectories)
            .Select(path => System.Xml.Linq.XDocument.Load(path))
            .Select(project => (
                Repository: project.Descendants("ContainerRepository").FirstOrDefault()?.Value,
                User: project.Descendants("ContainerUser").FirstOrDefault()?.Value))
            .Where(project => project.Repository is not null)
            .ToDictionary(project => project.Repository!, project => project.User);
        foreach (var (name, _, pod) in Workloads().Where(w => w.Kind != "StatefulSet"))
        {
            var repository = pod.Containers[0].Image.Split(':')[0];
            Assert.True(repositories.TryGetValue(repository, out var user), $"{name}'s image {repository} is no project's ContainerRepository.");
            Assert.Equal("1654", user);
        }
    }

    [Fact]
    public void Kubectl_builds_the_kustomization()
    {
        var (exitCode, output) = PublishedDeployment.Tool("kubectl", "kustomize", published.Kubernetes);

        Assert.True(exitCode == 0, output);
        Assert.Contains("kind: Secret", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Kubectl_apply_dry_run_accepts_the_kustomization()
    {
        var kinds = Objects.OfType<IKubernetesObject>()
            .Select(item => (item.ApiVersion, item.Kind, Namespaced: item.Kind != "Namespace"))
            .Append(("v1", "Secret", true));
        using var api = new DiscoveryOnlyKubernetesApi(kinds);
        var folder = Directory.CreateTempSubdirectory("sit-kubeconfig-");
        var kubeconfig = api.WriteKubeconfig(folder.FullName);

        var (exitCode, output) = PublishedDeployment.Tool(
            "kubectl", "--kubeconfig", kubeconfig, "apply", "--dry-run=client", "--validate=false", "-k", published.Kubernetes);

        folder.Delete(recursive: true);
        Assert.True(exitCode == 0, output);
        Assert.Contains("deployment.apps/api created (dry run)", output, StringComparison.Ordinal);
        Assert.Contains("job.batch/migrations created (dry run)", output, StringComparison.Ordinal);
    }

    private IEnumerable<(string Name, string Kind, V1PodSpec Pod)> Workloads() =>
        Objects.Select(item => item switch
        {
            V1Deployment deployment => (deployment.Metadata.Name, "Deployment", deployment.Spec.Template.Spec),
            V1StatefulSet set => (set.Metadata.Name, "StatefulSet", set.Spec.Template.Spec),
            V1Job job => (job.Metadata.Name, "Job", job.Spec.Template.Spec),
            _ => default,
        }).Where(w => w.Name is not null && w.Name != "aspire-dashboard");
}
