namespace SitMessenger.AppHost.Publishing;

/// <summary>
/// A container's environment in Kubernetes: literal settings in the resource's ConfigMap, secrets from the generated
/// Secret, and values made of both (connection strings) written with Kubernetes' own <c>$(VARIABLE)</c> references to
/// secret variables declared before them.
/// </summary>
internal static class KubernetesEnvironment
{
    public static string ConfigMapName(string resource) => $"{resource}-config";

    public static string Render(DeployedValue value) =>
        value.Render(parameter => $"$({ValueResolver.SecretVariable(parameter)})", text => text.Replace("$", "$$", StringComparison.Ordinal));

    public static IEnumerable<KeyValuePair<string, string>> Settings(DeployedResource resource, DeploymentOptions options) =>
        DeploymentConventions.Environment(resource, options)
            .Where(variable => variable.Value.IsLiteral)
            .Select(variable => new KeyValuePair<string, string>(variable.Key, Render(variable.Value)));

    public static (List<YamlMap>? EnvFrom, List<YamlMap> Env) For(DeployedResource resource, DeploymentOptions options)
    {
        var variables = DeploymentConventions.Environment(resource, options).ToList();
        var envFrom = variables.Any(variable => variable.Value.IsLiteral)
            ? new List<YamlMap> { Yaml.Map(("configMapRef", Yaml.Map(("name", ConfigMapName(resource.Name))))) }
            : null;

        var env = new List<YamlMap>();
        var declared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var secret in variables.Where(v => !v.Value.IsLiteral && !IsOneSecret(v.Value)).SelectMany(v => v.Value.Secrets).Distinct())
        {
            var variable = ValueResolver.SecretVariable(secret);
            env.Add(SecretVariable(variable, variable));
            declared.Add(variable);
        }

        foreach (var (name, value) in variables.Where(v => !v.Value.IsLiteral))
        {
            if (IsOneSecret(value))
            {
                var key = ValueResolver.SecretVariable(value.Secrets.Single());
                if (!(declared.Contains(name) && name == key))
                {
                    env.Add(SecretVariable(name, key));
                }
            }
            else
            {
                env.Add(Yaml.Map(("name", name), ("value", Render(value))));
            }
        }

        return (envFrom, env);
    }

    private static bool IsOneSecret(DeployedValue value) => value.Parts.Count == 1 && value.Parts[0].Secret is not null;

    private static YamlMap SecretVariable(string name, string key) => Yaml.Map(
        ("name", name),
        ("valueFrom", Yaml.Map(("secretKeyRef", Yaml.Map(("name", KubernetesWorkloads.SecretName), ("key", key))))));
}
