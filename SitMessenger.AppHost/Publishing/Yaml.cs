using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.EventEmitters;

namespace SitMessenger.AppHost.Publishing;

/// <summary>A YAML mapping that keeps the order keys were added in, so the same model always writes the same bytes.</summary>
internal sealed class YamlMap : OrderedDictionary<string, object?>
{
    public YamlMap()
        : base(StringComparer.Ordinal)
    {
    }
}

internal static class Yaml
{
    private static readonly ISerializer Serializer = new SerializerBuilder()
        .WithQuotingNecessaryStrings()
        .ConfigureDefaultValuesHandling(DefaultValuesHandling.OmitNull)
        .WithIndentedSequences()
        .WithEventEmitter(next => new Yaml11QuotingEmitter(next))
        .Build();

    public static string Write(object document) => Serializer.Serialize(document).ReplaceLineEndings("\n");

    public static string WriteAll(IEnumerable<object> documents) => string.Join("---\n", documents.Select(Write));

    public static YamlMap Map(params (string Key, object? Value)[] entries)
    {
        var map = new YamlMap();
        foreach (var (key, value) in entries)
        {
            if (value is not null)
            {
                map.Add(key, value);
            }
        }

        return map;
    }
}

/// <summary>
/// docker-compose 1.29 reads YAML 1.1, where <c>80:8000</c> is a number in base 60 and <c>no</c> is false; YamlDotNet
/// quotes by YAML 1.2's rules, so such strings are quoted here.
/// </summary>
internal sealed partial class Yaml11QuotingEmitter(IEventEmitter next) : ChainedEventEmitter(next)
{
    public override void Emit(ScalarEventInfo eventInfo, IEmitter emitter)
    {
        if (eventInfo.Source.Type == typeof(string) && eventInfo.Source.Value is string text && Yaml11Special().IsMatch(text))
        {
            eventInfo.Style = ScalarStyle.DoubleQuoted;
        }

        base.Emit(eventInfo, emitter);
    }

    [GeneratedRegex("^([0-9_:.+-]+|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|true|True|TRUE|false|False|FALSE|~|null|Null|NULL)$")]
    private static partial Regex Yaml11Special();
}
