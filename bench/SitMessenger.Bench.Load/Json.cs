using System.Text.Json;

namespace SitMessenger.Bench.Load;

internal static class Json
{
    /// <summary>A flat JSON object of string properties, as UTF-8 bytes.</summary>
    public static byte[] Object(params (string Name, string Value)[] properties)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            foreach (var (name, value) in properties)
            {
                writer.WriteString(name, value);
            }

            writer.WriteEndObject();
        }

        return stream.ToArray();
    }

    /// <summary>A string or numeric property as text (ids may be UUIDs or numbers).</summary>
    public static string? Text(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            }
            : null;

    /// <summary>A response body short enough for one report line.</summary>
    public static string Shorten(string body)
    {
        var flat = body.ReplaceLineEndings(" ").Trim();
        if (flat.Length == 0)
        {
            return "(empty body)";
        }

        return flat.Length <= 300 ? flat : flat[..300] + "...";
    }
}
