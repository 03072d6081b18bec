using System.Globalization;
using Aspire.Hosting.ApplicationModel;

namespace SitMessenger.AppHost.Publishing;

/// <summary>
/// Turns a value of the model in publish mode (a parameter, a connection string, an endpoint, an expression made of
/// them) into literal text and secret references. Hosts are the resources' names and ports their target ports: that is
/// how both Compose's network and Kubernetes' Services name them.
/// </summary>
internal sealed class ValueResolver(DeploymentOptions options)
{
    private readonly SortedDictionary<string, DeployedSecret> _secrets = new(StringComparer.Ordinal);

    public IReadOnlyList<DeployedSecret> Secrets => [.. _secrets.Values];

    public static string SecretVariable(string parameter) =>
        parameter.ToUpperInvariant().Replace('-', '_').Replace('.', '_');

    public int TargetPort(EndpointAnnotation endpoint) =>
        endpoint.TargetPort ?? endpoint.Port ?? (endpoint.UriScheme == "https" ? options.DefaultHttpsTargetPort : options.DefaultHttpTargetPort);

    public async Task<DeployedValue> ResolveAsync(object? value) => new(await PartsAsync(value));

    private async Task<List<DeployedValuePart>> PartsAsync(object? value)
    {
        switch (value)
        {
            case null:
                return [];
            case string text:
                return [new DeployedValuePart(text, null)];
            case ParameterResource parameter:
                return [Parameter(parameter)];
            case ConnectionStringReference reference:
                return await PartsAsync(reference.Resource.ConnectionStringExpression);
            case IResourceWithConnectionString resource:
                return await PartsAsync(resource.ConnectionStringExpression);
            case EndpointReference endpoint:
                return [Literal(Endpoint(endpoint, EndpointProperty.Url))];
            case EndpointReferenceExpression property:
                return [Literal(Endpoint(property.Endpoint, property.Property))];
            case ReferenceExpression { IsConditional: true } conditional:
                // Aspire's own conditions in publish mode are about TLS on an endpoint, which no endpoint here has.
                var holds = conditional.Condition is EndpointReferenceExpression { Property: EndpointProperty.TlsEnabled } tls
                    && tls.Endpoint.TlsEnabled;
                return await PartsAsync(holds ? conditional.WhenTrue : conditional.WhenFalse);
            case ReferenceExpression expression:
                return await FormatAsync(expression);
            case IFormattable formattable:
                return [Literal(formattable.ToString(null, CultureInfo.InvariantCulture))];
            default:
                throw new NotSupportedException(
                    $"A value of type {value.GetType().FullName} has no meaning in a deployment yet; teach {nameof(ValueResolver)} it.");
        }
    }

    private async Task<List<DeployedValuePart>> FormatAsync(ReferenceExpression expression)
    {
        var parts = new List<DeployedValuePart>();
        var format = expression.Format;
        var position = 0;
        while (position < format.Length)
        {
            var open = format.IndexOf('{', position);
            if (open < 0)
            {
                parts.Add(Literal(format[position..].Replace("}}", "}", StringComparison.Ordinal)));
                break;
            }

            if (open + 1 < format.Length && format[open + 1] == '{')
            {
                parts.Add(Literal(format[position..(open + 1)]));
                position = open + 2;
                continue;
            }

            parts.Add(Literal(format[position..open].Replace("}}", "}", StringComparison.Ordinal)));
            var close = format.IndexOf('}', open);
            var index = int.Parse(format[(open + 1)..close].Split(':', ',')[0], CultureInfo.InvariantCulture);
            var resolved = await PartsAsync(expression.ValueProviders[index]);
            // The only string format Aspire writes is "uri"; generated secrets are letters and digits, which it leaves alone.
            var encode = expression.StringFormats.Count > index && expression.StringFormats[index] == "uri";
            parts.AddRange(encode ? resolved.Select(part => part.Secret is null ? Literal(Uri.EscapeDataString(part.Text)) : part) : resolved);
            position = close + 1;
        }

        return parts.Where(part => part.Secret is not null || part.Text.Length > 0).ToList();
    }

    private DeployedValuePart Parameter(ParameterResource parameter)
    {
        var variable = SecretVariable(parameter.Name);
        var length = Math.Max(options.MinimumSecretLength, (parameter.Default as GenerateParameterDefault)?.MinLength ?? 0);
        _secrets.TryAdd(parameter.Name, new DeployedSecret(parameter.Name, variable, length));
        return new DeployedValuePart("", parameter.Name);
    }

    private string Endpoint(EndpointReference reference, EndpointProperty property)
    {
        var annotation = reference.Resource.Annotations.OfType<EndpointAnnotation>().Single(e => e.Name == reference.EndpointName);
        var host = reference.Resource.Name;
        var port = TargetPort(annotation).ToString(CultureInfo.InvariantCulture);
        return property switch
        {
            EndpointProperty.Url => $"{annotation.UriScheme}://{host}:{port}",
            EndpointProperty.Host or EndpointProperty.IPV4Host => host,
            EndpointProperty.Port or EndpointProperty.TargetPort => port,
            EndpointProperty.HostAndPort => $"{host}:{port}",
            EndpointProperty.Scheme => annotation.UriScheme,
            EndpointProperty.TlsEnabled => annotation.TlsEnabled ? "true" : "false",
            _ => throw new NotSupportedException($"Endpoint property {property} of {host} has no meaning in a deployment yet."),
        };
    }

    private static DeployedValuePart Literal(string text) => new(text, null);
}
