namespace SitMessenger.AppHost.Publishing;

/// <summary>The Kubernetes objects of one resource: a StatefulSet, Deployment or Job, and the Service in front of it.</summary>
internal sealed class KubernetesWorkloads(DeploymentOptions options)
{
    public const string SecretName = "sitmessenger-secrets";

    public const string WaiterAccount = "sitmessenger-job-waiter";

    /// <summary>The user .NET's container images run as (app, 1654); the csproj files set the same.</summary>
    private const long AppUser = 1654;

    public IEnumerable<object> For(DeployedResource resource, DeploymentDescription deployment)
    {
        switch (resource.Kind)
        {
            case DeployedKind.Server:
                yield return StatefulSet(resource);
                break;
            case DeployedKind.Service:
                yield return Deployment(resource, deployment);
                break;
            case DeployedKind.Job:
                yield return Job(resource, deployment);
                break;
        }

        if (resource.Endpoints.Count > 0)
        {
            yield return Service(resource.Name, resource, "ClusterIP", endpoint => endpoint.TargetPort);
        }

        if (resource.Endpoints.Any(endpoint => endpoint.External))
        {
            // The Gateway terminates TLS and answers ACME's HTTP-01 challenges itself, so it gets the raw 80/443 of a
            // LoadBalancer; an Ingress in front would take both from it.
            yield return Service($"{resource.Name}-public", resource, "LoadBalancer",
                endpoint => endpoint.Scheme == "https" ? options.PublicHttpsPort : options.PublicHttpPort, externalOnly: true);
        }
    }

    public static YamlMap Metadata(string name, string? component = null) => Yaml.Map(
        ("name", name),
        ("labels", Labels(component ?? name)));

    public static YamlMap Labels(string component) => Yaml.Map(
        ("app.kubernetes.io/name", component),
        ("app.kubernetes.io/part-of", "sitmessenger"));

    private YamlMap StatefulSet(DeployedResource server)
    {
        var container = Container(server);
        var health = DeploymentConventions.ServerHealthCommand(server);
        if (health is not null)
        {
            container.Add("readinessProbe", Yaml.Map(("exec", Yaml.Map(("command", health))), ("periodSeconds", 10), ("failureThreshold", 6)));
        }

        container.Add("volumeMounts", server.Volumes.Select(volume => Yaml.Map(("name", volume.Name), ("mountPath", volume.Target))).ToList());
        var claims = server.Volumes.Select(volume => Yaml.Map(
            ("metadata", Yaml.Map(("name", volume.Name))),
            ("spec", Yaml.Map(
                ("accessModes", new[] { "ReadWriteOnce" }),
                ("resources", Yaml.Map(("requests", Yaml.Map(("storage", options.ServerStorageSize))))))))).ToList();
        return Yaml.Map(
            ("apiVersion", "apps/v1"),
            ("kind", "StatefulSet"),
            ("metadata", Metadata(server.Name)),
            ("spec", Yaml.Map(
                // One instance: a self-contained install. Clustered or managed servers replace these (deploy/README.md).
                ("serviceName", server.Name),
                ("replicas", 1),
                ("selector", Yaml.Map(("matchLabels", Labels(server.Name)))),
                ("template", Yaml.Map(
                    ("metadata", Yaml.Map(("labels", Labels(server.Name)))),
                    ("spec", Yaml.Map(("containers", new[] { container }))))),
                ("volumeClaimTemplates", claims))));
    }

    private YamlMap Deployment(DeployedResource service, DeploymentDescription deployment)
    {
        var comment = service.Name == "scheduler"
            ? "Several run; they elect one leader through Redis and only the leader publishes jobs."
            : null;
        return Yaml.Map(
            ("apiVersion", "apps/v1"),
            ("kind", "Deployment"),
            ("metadata", Yaml.Map(
                ("name", service.Name),
                ("labels", Labels(service.Name)),
                ("annotations", comment is null ? null : Yaml.Map(("sitmessenger/replicas", comment))))),
            ("spec", Yaml.Map(
                ("replicas", DeploymentConventions.Replicas(service, options)),
                ("selector", Yaml.Map(("matchLabels", Labels(service.Name)))),
                ("template", Yaml.Map(
                    ("metadata", Yaml.Map(("labels", Labels(service.Name)))),
                    ("spec", PodSpec(service, deployment, restartPolicy: null)))))));
    }

    private YamlMap Job(DeployedResource job, DeploymentDescription deployment) => Yaml.Map(
        ("apiVersion", "batch/v1"),
        ("kind", "Job"),
        ("metadata", Metadata(job.Name)),
        ("spec", Yaml.Map(
            // Retries while its database is still starting.
            ("backoffLimit", 10),
            ("template", Yaml.Map(
                ("metadata", Yaml.Map(("labels", Labels(job.Name)))),
                ("spec", PodSpec(job, deployment, restartPolicy: "OnFailure")))))));

    private YamlMap PodSpec(DeployedResource project, DeploymentDescription deployment, string? restartPolicy)
    {
        var container = Container(project);
        if (project.HasHealthChecks && project.Endpoints.FirstOrDefault(e => e.Scheme == "http") is { } http)
        {
            container.Add("readinessProbe", HttpProbe(DeploymentConventions.ReadinessPath, http.Name, 10));
            container.Add("livenessProbe", HttpProbe(DeploymentConventions.LivenessPath, http.Name, 20));
        }

        container.Add("securityContext", Yaml.Map(
            ("readOnlyRootFilesystem", true), ("allowPrivilegeEscalation", false), ("runAsNonRoot", true),
            ("runAsUser", AppUser), ("capabilities", Yaml.Map(("drop", new[] { "ALL" })))));
        var mounts = new List<YamlMap> { Yaml.Map(("name", "tmp"), ("mountPath", DeploymentConventions.TempPath)) };
        mounts.AddRange(project.SharedStorage.Select(shared => Yaml.Map(("name", shared.Name), ("mountPath", shared.Target))));
        container.Add("volumeMounts", mounts);

        var volumes = new List<YamlMap> { Yaml.Map(("name", "tmp"), ("emptyDir", new YamlMap())) };
        volumes.AddRange(project.SharedStorage.Select(shared => Yaml.Map(
            ("name", shared.Name), ("persistentVolumeClaim", Yaml.Map(("claimName", shared.Name))))));

        var jobs = project.Waits.Where(wait => wait.Completion && deployment[wait.Resource].Kind == DeployedKind.Job).ToList();
        var waiters = jobs.Select(wait => Yaml.Map(
            ("name", $"wait-for-{wait.Resource}"),
            ("image", options.WaitImage),
            ("args", new[] { "wait", "--for=condition=complete", "--timeout=15m", $"job/{wait.Resource}" }),
            ("securityContext", Yaml.Map(("readOnlyRootFilesystem", true), ("allowPrivilegeEscalation", false), ("runAsNonRoot", true), ("runAsUser", AppUser))))).ToList();

        return Yaml.Map(
            ("serviceAccountName", waiters.Count > 0 ? WaiterAccount : null),
            ("restartPolicy", restartPolicy),
            ("securityContext", Yaml.Map(("fsGroup", AppUser))),
            ("initContainers", waiters.Count > 0 ? waiters : null),
            ("containers", new[] { container }),
            ("volumes", volumes));
    }

    private YamlMap Container(DeployedResource resource)
    {
        var container = Yaml.Map(
            ("name", resource.Name),
            ("image", resource.Image),
            ("command", resource.Entrypoint is { } entrypoint ? new[] { entrypoint } : null),
            ("args", resource.Args.Count > 0 ? resource.Args.Select(KubernetesEnvironment.Render).ToList() : null),
            ("ports", resource.Endpoints.Count > 0
                ? resource.Endpoints.Select(endpoint => Yaml.Map(("name", endpoint.Name), ("containerPort", endpoint.TargetPort))).ToList()
                : null));
        var (envFrom, env) = KubernetesEnvironment.For(resource, options);
        container.Add("envFrom", envFrom);
        if (env.Count > 0)
        {
            container.Add("env", env);
        }

        container.Add("resources", Yaml.Map(
            ("requests", Yaml.Map(("cpu", options.CpuRequest), ("memory", options.MemoryRequest))),
            ("limits", Yaml.Map(("cpu", options.CpuLimit), ("memory", options.MemoryLimit)))));
        return container;
    }

    private static YamlMap HttpProbe(string path, string port, int period) => Yaml.Map(
        ("httpGet", Yaml.Map(("path", path), ("port", port))),
        ("periodSeconds", period),
        ("failureThreshold", 3));

    private static YamlMap Service(string name, DeployedResource resource, string type, Func<DeployedEndpoint, int> port, bool externalOnly = false) => Yaml.Map(
        ("apiVersion", "v1"),
        ("kind", "Service"),
        ("metadata", Metadata(name, resource.Name)),
        ("spec", Yaml.Map(
            ("type", type),
            ("selector", Labels(resource.Name)),
            ("ports", resource.Endpoints.Where(endpoint => !externalOnly || endpoint.External).Select(endpoint => Yaml.Map(
                ("name", endpoint.Name), ("port", port(endpoint)), ("targetPort", endpoint.Name))).ToList()))));
}
